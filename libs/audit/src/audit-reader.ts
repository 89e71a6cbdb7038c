/**
 * Reads BEAM_AUDIT in stream order (pulls bounded by bytes, an ephemeral consumer that is removed after):
 * to its current end, or on and on (`follow`) until the signal aborts.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { AUDIT_ORIGIN_SUBJECT_HEADER, AUDIT_STREAM, isStreamNotFound, readStream, subjectMatches, subjects, type StreamMessage } from '@beamline/nats';

const LEGACY_PREFIX = subjects.legacyAudit('');

export interface AuditMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  /** When BEAM_AUDIT stored it (ms since the epoch). */
  storedAt: number;
}

export interface ReadAuditOptions {
  /**
   * One subject filter, e.g. `beam.pki.>` or `beam.ev.task.<id>.>`. On BEAM_AUDIT it applies to the original
   * subjects, which the copies carry in a header: the whole trail is read and filtered here.
   */
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
export async function readAudit(nc: NatsConnection, opts: ReadAuditOptions, handle: (m: AuditMessage) => void | Promise<void>): Promise<void> {
  const stream = opts.stream ?? AUDIT_STREAM;
  // Callers speak of original subjects only; BEAM_AUDIT's copies name theirs in a header.
  const copies = stream === AUDIT_STREAM;
  if (opts.signal?.aborted) return;
  const messages = readStream(nc, stream, {
    filterSubject: copies ? subjects.allAudit : opts.filterSubject,
    startTimeMs: opts.startTimeMs,
    follow: opts.follow === true,
    signal: opts.signal,
  });
  try {
    for await (const m of messages) {
      const subject = copies ? originalSubject(m.subject, m.headers) : m.subject;
      if (copies && opts.filterSubject !== undefined && !subjectMatches(opts.filterSubject, subject)) continue;
      await handle({ seq: m.seq, subject, data: m.data, storedAt: m.storedAt });
    }
  } catch (err) {
    if (isStreamNotFound(err)) throw new NoAuditStream(stream);
    throw err;
  }
}

/** The BEAM_EVENTS subject an audit copy copies: its header, or (copies made before the header) its own subject after `audit.`. */
export function originalSubject(subject: string, headers: StreamMessage['headers']): string {
  return headers?.get(AUDIT_ORIGIN_SUBJECT_HEADER) || (subject.startsWith(LEGACY_PREFIX) ? subject.slice(LEGACY_PREFIX.length) : subject);
}
