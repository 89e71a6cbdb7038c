/**
 * The messages of Samply.Beam's v1 app API, as the client hands them to the caller. Field names are the
 * wire names (snake_case), so a message can be logged or forwarded as it is.
 */
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';

/** The status of a result: `claimed` acknowledges a task, the other three answer it. */
export type WorkStatus = 'claimed' | 'tempfailed' | 'permfailed' | 'succeeded';

/** Advice to the workers on how to handle a failure. Stored and returned by Beam, never acted on. */
export type FailureStrategy = 'discard' | RetryStrategy;

/** The failure strategy "retry": how often, and how long to wait in between. */
export interface RetryStrategy {
  /** Retry the task. */
  retry: {
    /** The pause between two tries, in milliseconds. */
    backoff_millisecs: number;
    /** How many tries in all. */
    max_tries: number;
  };
}

/**
 * A task: work for the apps in `to`.
 *
 * @typeParam T - the body's type: `string` for a body passed as it is, anything else for a JSON body
 *   (see {@link BodyFormat}).
 */
export interface TaskRequest<T = string> {
  /** A UUID chosen by the sender; the task's name everywhere. */
  id: string;
  /** The sending app; always the authenticated app. */
  from: string;
  /** The app ids (or proxy ids) that may read and answer the task. */
  to: string[];
  /** The work, encrypted end to end. */
  body: T;
  /** Time to live, e.g. `"60s"`, `"5m"`. In received tasks Beamline shows the time remaining. */
  ttl: string;
  /** What a worker should do when it fails; Beam only carries it. */
  failure_strategy: FailureStrategy;
  /** Any JSON value; readable by the broker, never encrypted. */
  metadata: unknown;
}

/**
 * A result: a worker's answer (or claim) to a task.
 *
 * @typeParam T - the body's type, as for {@link TaskRequest}.
 */
export interface TaskResult<T = string> {
  /** The answering app; always the authenticated app. */
  from: string;
  /** Who may read the result: usually the task's `from`. */
  to: string[];
  /** The id of the task this answers. */
  task: string;
  /** `claimed` acknowledges the task; `succeeded`, `tempfailed` and `permfailed` answer it. */
  status: WorkStatus;
  /** Required for every status but `claimed`. */
  body?: T;
  /** Any JSON value; readable by the broker, never encrypted. */
  metadata: unknown;
}

/** A request for a direct socket, as the recipient lists it. */
export interface SocketRequest {
  /** The app that asked for the socket. */
  from: string;
  /** The one recipient. */
  to: string[];
  /** Pass it to {@link BeamClient.connectSocket}. */
  id: string;
  /** Time left to connect, e.g. `"57s"`. */
  ttl: string;
  /** The JSON the initiator sent along, or null. */
  metadata: unknown;
}

/**
 * How bodies travel. Beam carries every body as a string.
 *
 * - `'string'`: a string body is sent unchanged, any other value as its JSON text; a received body is
 *   returned as the string that arrived. Talks to any Beam app.
 * - `'json'`: every body is sent as JSON text (a string too, so it arrives as the same string) and a
 *   received body is parsed with `JSON.parse`; one that is not JSON fails the call with a
 *   {@link BeamError} of code `invalid_body`.
 */
export type BodyFormat = 'string' | 'json';

/** Options every call takes. */
export interface CallOptions {
  /** Aborts the call at any point: connecting, waiting, reading, between retries. It then rejects with a `BeamAbortError`. */
  signal?: AbortSignal;
}

/** Options of calls that send or receive bodies. */
export interface BodyOptions extends CallOptions {
  /** Overrides the client's {@link ClientOptions.bodies} for this call. */
  bodies?: BodyFormat;
}

/**
 * Long-poll options (beam-lib's `BlockingOptions`). Neither: the answer comes at once. Only `waitCount`:
 * wait up to the proxy's maximum wait (an hour by default). Only `waitTimeMs`: until the first item
 * matches or the time is over. Both: whichever comes first.
 */
export interface WaitOptions {
  /** Wait until this many items match. For results, `claimed` ones do not count. */
  waitCount?: number;
  /** Wait at most this many milliseconds. */
  waitTimeMs?: number;
}

/** Options of {@link BeamClient.pollPendingTasks}, {@link BeamClient.pollResults} and the streams. */
export interface PollOptions extends WaitOptions, BodyOptions {}

/** Options of {@link BeamClient.streamResults} and {@link BeamClient.streamTasks}. */
export interface StreamOptions extends PollOptions {
  /** Resume after this event id (a stream's {@link BeamEventStream.lastEventId}, e.g. saved before a restart). */
  lastEventId?: string;
}

/** Options of {@link BeamClient.streamFiles}. */
export interface StreamFilesOptions extends WaitOptions, CallOptions {
  /** Resume after this event id (a stream's {@link BeamEventStream.lastEventId}). */
  lastEventId?: string;
}

/** Options of {@link BeamClient.getTask}. */
export interface GetTaskOptions extends BodyOptions {
  /** Wait at most this long for the task to appear (Beamline answers 404 at once without it). */
  waitTimeMs?: number;
}

/** Options of {@link BeamClient.listSockets}. */
export interface ListSocketsOptions extends WaitOptions, CallOptions {}

/** Options of {@link BeamClient.createSocket}. */
export interface CreateSocketOptions extends CallOptions {
  /** Any JSON value, sent unencrypted for the recipient to see in its listing. */
  metadata?: unknown;
}

/** What {@link BeamClient.postTask} answers. */
export interface PostedTask {
  /** The task's id: the caller's, or the one the client chose. */
  id: string;
  /** The task's URL path on the proxy, from the `Location` header (`/v1/tasks/<id>`). */
  location: string;
}

/** A task to post: `id`, `from`, `ttl`, `failure_strategy` and `metadata` may be left out. */
export type NewTask<T = string> = Pick<TaskRequest<T>, 'to' | 'body'> & Partial<Omit<TaskRequest<T>, 'to' | 'body'>>;

/** A result to put: `from` (the client's app) and `metadata` (null) may be left out. */
export type NewResult<T = string> = Omit<TaskResult<T>, 'from' | 'metadata'> & Partial<Pick<TaskResult<T>, 'from' | 'metadata'>>;

/** Whether {@link BeamClient.putResult} created the worker's result (201) or replaced its earlier one (204). */
export type PutOutcome = 'created' | 'replaced';

/** Options of the {@link BeamClient} constructor. */
export interface ClientOptions {
  /**
   * How often a transient failure (connection refused or reset, 502, 503, 504, 409 `write_contention`)
   * is retried before the call fails. Default 5; 0 turns retries off.
   */
  retries?: number;
  /** The first retry's delay in ms; it doubles per attempt, with full jitter. Default 200. */
  retryBaseDelayMs?: number;
  /** The longest delay between two attempts in ms. Default 10000. */
  retryMaxDelayMs?: number;
  /**
   * An event stream that brings nothing, not even a keep-alive comment, for this long (ms) counts as dropped
   * and is resumed: it catches connections that died without a FIN or reset. Beamline sends a keep-alive every
   * 15 s. Default 60000; 0 turns it off.
   */
  streamIdleTimeoutMs?: number;
  /** The default for every call's {@link BodyOptions.bodies}. Default `'string'`. */
  bodies?: BodyFormat;
  /** Sent as `User-Agent`. Default `beamline-client/<version> node/<version>`. */
  userAgent?: string;
  /**
   * The `node:http`/`node:https` agent for every request (e.g. an `https.Agent` with a private CA).
   * Default: Node's global agent.
   */
  agent?: HttpAgent | HttpsAgent;
  /** Source of randomness for retry jitter, in [0, 1). For tests; default `Math.random`. */
  random?: () => number;
}

/** A file offered to this app, as {@link BeamClient.listFiles} lists it (Beamline's own addition to the API). */
export interface FileInfo {
  /** The file's id (a UUID): pass it to {@link BeamClient.downloadFile} and {@link BeamClient.deleteFile}. */
  id: string;
  /** The sending app. */
  from: string;
  /** The recipients. */
  to: string[];
  /** The file's size in bytes. */
  size: number;
  /** The JSON the sender sent along (`Beam-Metadata`), or null. */
  metadata: unknown;
  /** When the file expires, ISO 8601 (e.g. `2025-06-01T12:00:00.000Z`). */
  expiresAt: string;
}

/** What {@link BeamClient.sendFile} answers. */
export interface SentFile {
  /** The file's id, as its recipients list it. */
  id: string;
  /** When the file expires, ISO 8601. */
  expiresAt: string;
}

/** Options of {@link BeamClient.sendFile}. */
export interface SendFileOptions extends CallOptions {
  /** Any JSON value, sent unencrypted (header `Beam-Metadata`) for the recipients to see in their listing. */
  metadata?: unknown;
  /** How long the file is kept, e.g. `"30m"`, `"1d"` (the proxy's default: `"1d"`). */
  ttl?: string;
  /**
   * Called as the upload goes, with the bytes handed to the connection so far (they restart from 0 when a
   * file path is sent again after a transient failure).
   */
  onProgress?: (bytesSent: number) => void;
}

/** Options of {@link BeamClient.listFiles}. */
export interface ListFilesOptions extends WaitOptions, CallOptions {}

/** Options of {@link BeamClient.downloadFile}. */
export interface DownloadFileOptions extends CallOptions {
  /** The first byte to download (`Range: bytes=<offset>-`), e.g. the size of a partial copy. Default 0. */
  offset?: number;
}

/** Counts the items that count towards `wait_count`, the way the proxy does. */
export interface WaitCounter<T> {
  add(item: T): void;
  readonly count: number;
}
