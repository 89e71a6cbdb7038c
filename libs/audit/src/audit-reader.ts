/**
 * Reads BEAM_AUDIT in stream order (pulls bounded by bytes, an ephemeral consumer that is removed after):
 * to its current end, or on and on (`follow`) until the signal aborts.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { AUDIT_STREAM, isStreamNotFound, readStream, subjects } from '@beamline/nats';

const AUDIT_PREFIX = subjects.audit('');

export interface AuditMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** When BEAM_AUDIT stored it (ms since the epoch). */
  storedAt: number;
}

export interface ReadAuditOptions {
  /** One subject filter (NATS 2.9 takes one), e.g. `beam.pki.>` or `beam.ev.task.<id>.>`. */
  filterSubject?: string;
  /** Start at the first message BEAM_AUDIT stored at or after this time (ms). */
  startTimeMs?: number;
  /** Keep delivering new messages until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  stream?: string;
}

export class NoAuditStream extends Error {
  constructor(stream: string) {
    super(`the stream ${stream} does not exist (no broker has run against this NATS yet?)`);
    this.name = 'NoAuditStream';
  }
}

/** Calls `handle` for every message in order; resolves when the end is reached (or, with `follow`, when aborted). */
export async function readAudit(js: JetStreamClient, opts: ReadAuditOptions, handle: (m: AuditMessage) => void | Promise<void>): Promise<void> {
  const stream = opts.stream ?? AUDIT_STREAM;
  // BEAM_AUDIT holds its copies under `audit.<original subject>`; callers speak of original subjects only.
  const copies = stream === AUDIT_STREAM;
  const filter = opts.filterSubject && copies ? subjects.audit(opts.filterSubject) : opts.filterSubject;
  if (opts.signal?.aborted) return;
  const messages = readStream(js, stream, { filterSubject: filter, startTimeMs: opts.startTimeMs, follow: opts.follow === true, signal: opts.signal });
  try {
    for await (const m of messages) {
      const subject = copies && m.subject.startsWith(AUDIT_PREFIX) ? m.subject.slice(AUDIT_PREFIX.length) : m.subject;
      await handle({ seq: m.seq, subject, data: m.data, storedAt: m.storedAt });
    }
  } catch (err) {
    if (isStreamNotFound(err)) throw new NoAuditStream(stream);
    throw err;
  }
}
