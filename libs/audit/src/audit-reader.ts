/**
 * Reads BEAM_AUDIT in stream order with an ordered consumer (ephemeral, nothing left behind on the server):
 * to its current end, or on and on (`follow`) until the signal aborts.
 */
import { DeliverPolicy, JetStreamApiError, type JetStreamClient, type OrderedConsumerOptions } from '@nats-io/jetstream';
import { AUDIT_STREAM, subjects } from '@beamline/nats';

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
  const consumerOpts: Partial<OrderedConsumerOptions> = {
    ...(filter ? { filter_subjects: filter } : {}),
    ...(opts.startTimeMs !== undefined
      ? { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Math.max(0, opts.startTimeMs)).toISOString() }
      : {}),
  };
  let consumer;
  try {
    consumer = await js.consumers.get(stream, consumerOpts);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === 10059) throw new NoAuditStream(stream);
    throw err;
  }
  if (opts.signal?.aborted) return;
  const info = await consumer.info(true);
  if (info.num_pending === 0 && !opts.follow) return;
  const messages = await consumer.consume();
  const onAbort = (): void => void messages.close();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const m of messages) {
      const subject = copies && m.subject.startsWith(AUDIT_PREFIX) ? m.subject.slice(AUDIT_PREFIX.length) : m.subject;
      await handle({ seq: m.seq, subject, data: m.data, storedAt: m.time.getTime() });
      if (!opts.follow && m.info.pending === 0) break;
      if (opts.signal?.aborted) break;
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    await messages.close().catch(() => undefined);
  }
}
