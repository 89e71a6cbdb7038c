/**
 * A Server-Sent Events stream of the proxy that survives dropped connections: it reconnects with backoff
 * and `Last-Event-ID` (Beamline resumes after that event without loss or duplicates), and with what is
 * left of `wait_time`, until the wait the caller asked for is over.
 *
 * When is a stream over? The proxy ends it cleanly in four cases (docs/api.md, "Server-Sent Events"):
 * after `wait_count` counting items, with a `wait_expired` event (time up, or the task expired), or at
 * once without wait parameters. A clean end that fits none of them (a proxy shutting down, the proxy's
 * `: broker stream interrupted` comment) is a drop, and the stream reconnects. One exception keeps that
 * from looping: a resumed connection that ends cleanly without a single event means the proxy considers
 * the wait done (it counts items it could not show us, e.g. ones that failed verification).
 */
import type { IncomingMessage } from 'node:http';
import { BeamAbortError, BeamError, BeamNetworkError, httpError } from './errors';
import { headerOf, openResponse, readText, toBeamError, type Transport } from './http';
import { backoffDelay, isTransient, sleep, type RetryPolicy } from './retry';
import { SseParser } from './sse-parser';
import type { StreamFilesOptions, StreamOptions, WaitCounter } from './types';
import { waitParams, withQuery } from './wire';

/** Why a stream ended. */
export type StreamEndReason =
  /** The wait condition held (or, without wait options, everything that existed was sent). */
  | 'complete'
  /** `waitTimeMs` ran out first. */
  | 'wait_expired'
  /** The task expired; its results are gone. */
  | 'task_expired';

/** What a concrete stream (results, tasks) supplies. */
export interface StreamSpec<T> {
  /** The event that carries items (`new_result`, `new_task`); other events are ignored. */
  eventName: string;
  /** The request path with its query, for what is left of the wait (undefined: no wait_time). */
  pathFor: (waitTimeMs: number | undefined) => string;
  /** The item for an event's data. */
  decode: (data: string) => T;
  counter: WaitCounter<T>;
  waitCount?: number;
  waitTimeMs?: number;
  signal?: AbortSignal;
  /** Resume after this event id, e.g. one saved by an earlier process. */
  lastEventId?: string;
  /** A connection silent for this long (ms) is dropped and resumed; 0: never. */
  idleTimeoutMs: number;
}

/** The proxy's comment when its own stream from the broker broke: what was sent is not all there is. */
const INTERRUPTED_COMMENT = 'broker stream interrupted';

type ConnectionEnd = { reason: 'wait_expired' | 'task_expired' } | { reason: 'ended'; events: number; interrupted: boolean };

/**
 * An async iterable of the items of one SSE route. Iterate it once; leaving the loop early (break,
 * return, throw) closes the connection.
 */
export class BeamEventStream<T> implements AsyncIterable<T> {
  private reason: StreamEndReason | undefined;
  private readonly parser = new SseParser();
  private started = false;
  /** Events received since the last failure: a connection that brought some resets the backoff. */
  private delivered = 0;

  /** @internal Made by {@link BeamClient.streamResults} and {@link BeamClient.streamTasks}. */
  constructor(
    private readonly transport: Transport,
    private readonly policy: RetryPolicy,
    private readonly spec: StreamSpec<T>,
  ) {
    if (spec.lastEventId !== undefined) this.parser.feed(`id: ${spec.lastEventId}\n\n`);
  }

  /** Why the stream ended; undefined while it runs (or when it failed or was left early). */
  get endReason(): StreamEndReason | undefined {
    return this.reason;
  }

  /** The id of the last event received: pass it as `lastEventId` to resume in another stream. */
  get lastEventId(): string | undefined {
    return this.parser.lastEventId === '' ? undefined : this.parser.lastEventId;
  }

  /** Starts the stream: the first connection opens with the first `next()`. Throws when called twice. */
  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.started) throw new Error('a BeamEventStream can be iterated once');
    this.started = true;
    return this.run();
  }

  private async *run(): AsyncGenerator<T, void, undefined> {
    const { waitTimeMs } = this.spec;
    // Counted from the first connection; a reconnect asks only for what is left of the wait.
    const deadline = waitTimeMs !== undefined && waitTimeMs > 0 ? Date.now() + waitTimeMs : undefined;
    let failures = 0;
    for (let connection = 0; ; connection++) {
      const remaining = connection === 0 || deadline === undefined ? waitTimeMs : deadline - Date.now();
      if (deadline !== undefined && remaining !== undefined && remaining <= 0) return this.finish('wait_expired');
      let end: ConnectionEnd;
      try {
        const res = await this.open(remaining);
        end = yield* this.read(res);
      } catch (err) {
        failures = await this.backOff(err, failures);
        continue;
      }
      if (end.reason !== 'ended') return this.finish(end.reason);
      if (!end.interrupted && (this.waitSatisfied() || (connection > 0 && end.events === 0))) return this.finish('complete');
      failures = await this.backOff(new BeamNetworkError('the event stream ended before its wait was over', 'ECONNRESET', undefined), failures);
    }
  }

  private finish(reason: StreamEndReason): void {
    this.reason = reason;
  }

  private waitSatisfied(): boolean {
    const { waitCount, waitTimeMs } = this.spec;
    if (waitCount !== undefined) return this.spec.counter.count >= waitCount;
    return waitTimeMs === undefined || waitTimeMs <= 0;
  }

  /** Waits before the next connection, or throws when the failure is final or the retries are spent. */
  private async backOff(err: unknown, previousFailures: number): Promise<number> {
    const failures = this.delivered > 0 ? 0 : previousFailures;
    this.delivered = 0;
    const error = toBeamError(err, 'event stream', this.spec.signal);
    if (error instanceof BeamAbortError || !isTransient(error) || failures >= this.policy.retries) throw error;
    const delay = Math.max(backoffDelay(failures, this.policy, error), this.parser.reconnectionTimeMs ?? 0);
    await sleep(delay, this.spec.signal);
    return failures + 1;
  }

  private async open(remainingMs: number | undefined): Promise<IncomingMessage> {
    const path = this.spec.pathFor(remainingMs);
    const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (this.parser.lastEventId !== '') headers['last-event-id'] = this.parser.lastEventId;
    const res = await openResponse(this.transport, { method: 'GET', path, headers, signal: this.spec.signal });
    const status = res.statusCode ?? 0;
    const type = headerOf(res.headers, 'content-type') ?? '';
    if (status === 200 && type.startsWith('text/event-stream')) return res;
    const text = await readText(res, `GET ${path}`, this.spec.signal);
    if (status !== 200) throw httpError(`GET ${path}`, status, text, headerOf(res.headers, 'retry-after'));
    throw new BeamError(`GET ${path}: expected an event stream, got ${type || 'no content type'}`, { status, code: 'not_event_stream' });
  }

  /** Yields the items of one connection; answers how it ended. Leaving early closes the connection. */
  private async *read(res: IncomingMessage): AsyncGenerator<T, ConnectionEnd, undefined> {
    this.parser.reset();
    res.setEncoding('utf8');
    if (this.spec.idleTimeoutMs > 0) {
      res.setTimeout(this.spec.idleTimeoutMs, () => {
        res.destroy(new BeamNetworkError(`the event stream was silent for ${this.spec.idleTimeoutMs} ms`, 'ETIMEDOUT', undefined));
      });
    }
    let events = 0;
    let interrupted = false;
    try {
      for await (const chunk of res) {
        for (const item of this.parser.feed(chunk as string)) {
          if (item.kind === 'comment') {
            interrupted ||= item.text === INTERRUPTED_COMMENT;
          } else if (item.event.event === 'wait_expired') {
            return { reason: isTaskExpired(item.event.data) ? 'task_expired' : 'wait_expired' };
          } else if (item.event.event === this.spec.eventName) {
            events++;
            this.delivered++;
            const value = this.spec.decode(item.event.data);
            this.spec.counter.add(value);
            yield value;
          }
        }
      }
      if (!res.complete) throw new BeamNetworkError('the event stream was cut off', 'ECONNRESET', undefined);
      return { reason: 'ended', events, interrupted };
    } finally {
      res.destroy();
    }
  }
}

/** `wait_expired` carries `null` when the time ran out and `"Task expired"` when the task did. */
function isTaskExpired(data: string): boolean {
  try {
    return JSON.parse(data) === 'Task expired';
  } catch {
    return false;
  }
}

/** A listing route's event stream, as the client's `stream…` methods describe it. */
export interface ListingEvents<T> {
  eventName: string;
  path: string;
  /** Query parameters besides the wait parameters. */
  query?: Record<string, string>;
  decode: (data: string) => T;
  counter: WaitCounter<T>;
}

/** The event stream of a listing: `listing.eventName` events at its path, waiting as `opts` say. */
export function listingStream<T>(
  transport: Transport,
  policy: RetryPolicy,
  idleTimeoutMs: number,
  opts: StreamOptions | StreamFilesOptions,
  listing: ListingEvents<T>,
): BeamEventStream<T> {
  const { eventName, path, query, decode, counter } = listing;
  const pathFor = (waitMs: number | undefined): string => withQuery(path, { ...query, ...waitParams({ waitCount: opts.waitCount, waitTimeMs: waitMs }) });
  return new BeamEventStream<T>(transport, policy, { ...streamWait(opts), idleTimeoutMs, eventName, pathFor, decode, counter });
}

/** The stream options the event stream needs, checked before anything is sent. */
function streamWait(opts: StreamOptions | StreamFilesOptions): Pick<StreamOptions, 'waitCount' | 'waitTimeMs' | 'signal' | 'lastEventId'> {
  waitParams(opts);
  if (opts.lastEventId !== undefined && /[\r\n\0]/.test(opts.lastEventId)) throw new TypeError('lastEventId must not contain CR, LF or NUL');
  return { waitCount: opts.waitCount, waitTimeMs: opts.waitTimeMs, signal: opts.signal, lastEventId: opts.lastEventId };
}
