/**
 * How far BEAM_AUDIT has copied BEAM_EVENTS. The expiry leader copies events in stream order, each copy
 * stored right after the copy of the event before it, and stamps each copy with the BEAM_EVENTS sequence it
 * came from, so the newest copy's stamp is a watermark: every event up to it is in the audit trail. The
 * sweeper purges an expired task only below the watermark.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { AUDIT_ORIGIN_SEQ_HEADER, AUDIT_STREAM, isStreamNotFound } from '@beamline/nats';

export type AuditCopyState = 'copied' | 'pending' | 'no_audit_stream';

export interface AuditPosition {
  /** BEAM_AUDIT's last sequence: where the next copy must land right after. */
  lastSeq: number;
  /** The BEAM_EVENTS sequence the message at `lastSeq` copies (0 when there is none). */
  watermark: number;
}

/**
 * BEAM_AUDIT's last sequence and the watermark stamped on the message there, read as one consistent pair
 * (the message is fetched by that very sequence); undefined without a BEAM_AUDIT.
 */
export async function auditPosition(jsm: JetStreamManager): Promise<AuditPosition | undefined> {
  try {
    const { last_seq: lastSeq, messages } = (await jsm.streams.info(AUDIT_STREAM)).state;
    if (messages === 0) return { lastSeq, watermark: 0 };
    const last = await jsm.streams.getMessage(AUDIT_STREAM, { seq: lastSeq });
    return { lastSeq, watermark: Number(last?.header?.get(AUDIT_ORIGIN_SEQ_HEADER)) || 0 };
  } catch (err) {
    if (isStreamNotFound(err)) return undefined;
    throw err;
  }
}

/** The BEAM_EVENTS sequence of the newest copy in BEAM_AUDIT (0 when none), or undefined without a BEAM_AUDIT. */
export async function auditWatermark(jsm: JetStreamManager): Promise<number | undefined> {
  return (await auditPosition(jsm))?.watermark;
}

/** Whether a BEAM_AUDIT whose watermark is `watermark` holds the BEAM_EVENTS message with sequence `eventsSeq`. */
export function copyStateAt(watermark: number | undefined, eventsSeq: number): AuditCopyState {
  if (watermark === undefined) return 'no_audit_stream';
  return watermark >= eventsSeq ? 'copied' : 'pending';
}

/** Whether BEAM_AUDIT already holds the BEAM_EVENTS message with sequence `eventsSeq`. */
export async function auditCopyState(jsm: JetStreamManager, eventsSeq: number): Promise<AuditCopyState> {
  return copyStateAt(await auditWatermark(jsm), eventsSeq);
}
