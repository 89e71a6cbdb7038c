/**
 * How far BEAM_AUDIT has copied BEAM_EVENTS. The expiry leader copies events in stream order and stamps each
 * copy with the BEAM_EVENTS sequence it came from, so the newest copy's stamp is a watermark: every event up
 * to it is in the audit trail. The sweeper purges an expired task only below the watermark.
 */
import { JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { AUDIT_ORIGIN_SEQ_HEADER, AUDIT_STREAM } from '@beamline/nats';

export type AuditCopyState = 'copied' | 'pending' | 'no_audit_stream';

/** The BEAM_EVENTS sequence of the newest copy in BEAM_AUDIT (0 when none), or undefined without a BEAM_AUDIT. */
export async function auditWatermark(jsm: JetStreamManager): Promise<number | undefined> {
  try {
    const info = await jsm.streams.info(AUDIT_STREAM);
    if (info.state.messages === 0) return 0;
    const last = await jsm.streams.getMessage(AUDIT_STREAM, { seq: info.state.last_seq });
    return Number(last?.header?.get(AUDIT_ORIGIN_SEQ_HEADER)) || 0;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059) return undefined;
    throw err;
  }
}

/** Whether BEAM_AUDIT already holds the BEAM_EVENTS message with sequence `eventsSeq`. */
export async function auditCopyState(jsm: JetStreamManager, eventsSeq: number): Promise<AuditCopyState> {
  const watermark = await auditWatermark(jsm);
  if (watermark === undefined) return 'no_audit_stream';
  return watermark >= eventsSeq ? 'copied' : 'pending';
}
