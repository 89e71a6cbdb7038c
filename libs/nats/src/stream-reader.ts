/**
 * The one way Beamline reads a stream: in order, in pulls bounded by bytes (see PullSession), starting over
 * after the last message it delivered whenever a session breaks (a gap, heartbeats missed, the consumer or
 * its server gone). Used by broker-store's projection and audit copier, broker-api's directory, the audit
 * reader and the PKI directory loader alike.
 */
import { jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { IDLE, PullSession, type PullBounds, type PullStart, type StreamMessage } from './pull-session';
import { isJsError, JsCodes } from './jetstream-codes';

export type { StreamMessage } from './pull-session';

export interface ReadStreamOptions {
  /** One subject filter (nats-server 2.9 takes one); all of the stream by default. */
  filterSubject?: string;
  /** The first stream sequence to read. */
  startSeq?: number;
  /** Start at the first message stored at or after this time (ms since the epoch); ignored with startSeq. */
  startTimeMs?: number;
  /**
   * true: wait for new messages until `signal` aborts. false: end after the last message that was in the
   * stream when reading began.
   */
  follow: boolean;
  signal?: AbortSignal;
  /** Told when the reader has handed over every message that existed when it began (also when there were none). */
  onCaughtUp?: () => void;
  /** Told about every failure the reader recovers from by starting over after the last message it delivered. */
  onRestart?: (err: unknown) => void;
  /** Pause before starting over (default 500 ms). */
  restartDelayMs?: number;
}

/**
 * Room beside the largest payload for what the server also counts against max_bytes: the subject, the
 * `$JS.ACK…` reply subject and headers (headers count towards max_payload, but not every server counts them
 * towards max_msg_size). NATS protocol lines are at most 4 KiB by default, so this is generous.
 */
const PULL_ENVELOPE_ROOM = 64 * 1024;

/**
 * Bytes per pull: the largest message the stream can hold plus its envelope. A request smaller than a
 * message can never carry it (the server answers 409 and the reader makes no progress), and one request at
 * a time of ~32 MiB stays well below the server's 64 MiB per-client pending limit.
 */
export function pullMaxBytes(streamMaxMsgSize: number, serverMaxPayload: number): number {
  const largest = streamMaxMsgSize > 0 ? streamMaxMsgSize : serverMaxPayload;
  return largest + PULL_ENVELOPE_ROOM;
}

const DEFAULT_BOUNDS: Omit<PullBounds, 'maxBytes'> = {
  // Small messages come 100 to a round trip; large ones are bounded by bytes, one or two to a pull.
  maxMessages: 100,
  heartbeatMs: 1_000,
  expiresMs: 10_000,
};
/** Reading to the end gives up after this many restarts in a row without a message (a one-off tool must not hang). */
const MAX_FRUITLESS_RESTARTS = 5;

/** The connection behind a JetStream client or connection (what pull requests are published and answered on). */
export function connectionOf(source: JetStreamClient | NatsConnection): NatsConnection {
  if ('subscribe' in source) return source;
  const withConnection = source as JetStreamClient & { getConnection?: () => NatsConnection };
  if (!withConnection.getConnection) throw new Error('a JetStream client without its connection; pass the NatsConnection');
  return withConnection.getConnection();
}

/** Whether an error means the stream does not exist (JetStream error 10059). */
export function isStreamNotFound(err: unknown): boolean {
  return isJsError(err, JsCodes.StreamNotFound);
}

/**
 * Every message of `stream` (matching `filterSubject`) in order. A `break` out of the loop, or `signal`,
 * stops reading and removes the consumer. Throws JetStreamApiError 10059 when the stream does not exist.
 */
export async function* readStream(source: JetStreamClient | NatsConnection, stream: string, opts: ReadStreamOptions): AsyncGenerator<StreamMessage> {
  const nc = connectionOf(source);
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const bounds: PullBounds = { ...DEFAULT_BOUNDS, maxBytes: pullMaxBytes(info.config.max_msg_size, nc.info?.max_payload ?? 0) };
  const endSeq = info.state.last_seq;
  let start: PullStart = opts.startSeq !== undefined ? { seq: opts.startSeq } : opts.startTimeMs !== undefined ? { timeMs: opts.startTimeMs } : 'first';
  let fruitlessRestarts = 0;
  while (!opts.signal?.aborted) {
    let session: PullSession | undefined;
    try {
      session = await PullSession.open(nc, jsm, stream, { filterSubject: opts.filterSubject, start, bounds });
      if (session.pendingAtStart === 0) {
        opts.onCaughtUp?.();
        if (!opts.follow) return;
      }
      for await (const m of session.messages(opts.signal)) {
        if (m === IDLE) {
          // Also covers messages purged after the last delivery reported them pending.
          opts.onCaughtUp?.();
          if (!opts.follow) return;
          continue;
        }
        start = { seq: m.seq + 1 };
        fruitlessRestarts = 0;
        yield m;
        // The handler is done with it once the loop asks for the next one.
        if (m.pending === 0) opts.onCaughtUp?.();
        if (!opts.follow && (m.pending === 0 || m.seq >= endSeq)) return;
      }
      return; // aborted
    } catch (err) {
      if (opts.signal?.aborted) return;
      if (nc.isClosed() || isStreamNotFound(err)) throw err;
      if (!opts.follow && ++fruitlessRestarts > MAX_FRUITLESS_RESTARTS) throw err;
      opts.onRestart?.(err);
      await pause(opts.restartDelayMs ?? 500, opts.signal);
    } finally {
      await session?.close();
    }
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
