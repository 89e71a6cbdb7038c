/** The app's client of its Beam proxy: tasks, results, event streams, direct sockets and files. */
import type { Socket } from 'node:net';
import { decodeResult, decodeTask } from './bodies';
import { BeamHttpError, httpError } from './errors';
import { listingStream, type BeamEventStream, type ListingEvents } from './event-stream';
import { openDownload, type BeamFileDownload } from './file-download';
import { uploadFile, type FileSource } from './file-upload';
import { exchange, headerOf, type Answer, type RequestSpec, type Transport } from './http';
import { withRetries, type RetryPolicy } from './retry';
import { upgrade, upgradeNotSent } from './sockets';
import type {
  BodyFormat,
  BodyOptions,
  CallOptions,
  ClientOptions,
  CreateSocketOptions,
  DownloadFileOptions,
  FileInfo,
  GetTaskOptions,
  ListFilesOptions,
  ListSocketsOptions,
  NewResult,
  NewTask,
  PollOptions,
  PostedTask,
  PutOutcome,
  SendFileOptions,
  SentFile,
  SocketRequest,
  StreamFilesOptions,
  StreamOptions,
  TaskRequest,
  TaskResult,
  WaitOptions,
} from './types';
import { CLIENT_VERSION } from './version';
import { asciiJson, isSameTask, parseJson, parseJsonArray, ResultCounter, segment, IdCounter, waitParams, wireResult, wireTask, withQuery } from './wire';

/**
 * A client of one app at its Beam proxy, the TypeScript counterpart of beam-lib's `BeamClient`.
 *
 * Every call retries transient failures (see {@link ClientOptions.retries}), takes an `AbortSignal`, and
 * fails with a {@link BeamError}. A client holds no connection of its own and may be shared freely.
 */
export class BeamClient {
  /** The app this client acts as, e.g. `app1.proxy1.broker`. */
  readonly appId: string;
  /** The proxy's base URL. */
  readonly proxyUrl: string;
  private readonly transport: Transport;
  private readonly policy: RetryPolicy;
  private readonly bodies: BodyFormat;
  private readonly streamIdleTimeoutMs: number;

  /**
   * @param appId - the app's full id, `<app>.<proxy id>`
   * @param apiKey - the app's key at the proxy (`APP_<app>_KEY`)
   * @param proxyUrl - the proxy's URL, e.g. `http://localhost:8081`
   */
  constructor(appId: string, apiKey: string, proxyUrl: string, options: ClientOptions = {}) {
    const baseUrl = new URL(proxyUrl);
    if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') throw new TypeError(`proxyUrl must be http(s), got ${proxyUrl}`);
    if (/[\s]/.test(appId) || appId === '') throw new TypeError(`appId must be a non-empty app id without spaces, got ${JSON.stringify(appId)}`);
    this.appId = appId;
    this.proxyUrl = proxyUrl;
    this.bodies = options.bodies ?? 'string';
    this.streamIdleTimeoutMs = options.streamIdleTimeoutMs ?? 60_000;
    this.policy = {
      retries: options.retries ?? 5,
      baseDelayMs: options.retryBaseDelayMs ?? 200,
      maxDelayMs: options.retryMaxDelayMs ?? 10_000,
      random: options.random ?? Math.random,
    };
    const userAgent = options.userAgent ?? `beamline-client/${CLIENT_VERSION} node/${process.version}`;
    this.transport = { baseUrl, agent: options.agent, headers: { authorization: `ApiKey ${appId} ${apiKey}`, 'user-agent': userAgent } };
  }

  /**
   * Posts a task (`POST /v1/tasks`). Left-out fields get defaults: a random UUID `id`, this app as
   * `from`, `ttl` `"60s"`, the walkthrough's retry `failure_strategy`, `metadata` null.
   *
   * A retried post is safe: Beamline answers a re-sent identical task 201. If a retry meets 409 (a
   * server that refuses a known id, e.g. Samply.Beam, after a first attempt that did arrive), the task is
   * read back and the 409 counts as success only if the stored task is this app's task with the same
   * recipients, metadata and failure strategy; otherwise the 409 is thrown.
   *
   * @returns the task's id and location
   */
  async postTask<T = string>(task: NewTask<T>, opts: BodyOptions = {}): Promise<PostedTask> {
    const wire = wireTask(task, this.appId, opts.bodies ?? this.bodies);
    const spec: RequestSpec = { method: 'POST', path: '/v1/tasks', body: JSON.stringify(wire), signal: opts.signal };
    const location = await withRetries(
      async (attempt) => {
        try {
          return headerOf((await this.expect(spec, [201])).headers, 'location');
        } catch (err) {
          if (attempt > 0 && err instanceof BeamHttpError && err.status === 409 && (await this.storedAsSent(wire, opts.signal))) return undefined;
          throw err;
        }
      },
      this.policy,
      opts.signal,
    );
    return { id: wire.id, location: location ?? `/v1/tasks/${wire.id}` };
  }

  /**
   * Reads one task (`GET /v1/tasks/{id}`), as its creator or a recipient. With `waitTimeMs` it waits for
   * the task to appear; without, an unknown task is a 404 at once. A creator sees the body as
   * `"<encrypted>"` (read it with `bodies: 'string'`).
   */
  async getTask<T = string>(id: string, opts: GetTaskOptions = {}): Promise<TaskRequest<T>> {
    const path = (waitMs: number | undefined): string => withQuery(`/v1/tasks/${segment(id, 'id')}`, waitParams({ waitTimeMs: waitMs }));
    const answer = await this.poll(path, { waitTimeMs: opts.waitTimeMs }, [200], opts.signal);
    return decodeTask<T>(parseJson(answer.text, `task ${id}`) as TaskRequest<unknown>, opts.bodies ?? this.bodies);
  }

  /**
   * The tasks this app has yet to answer (`GET /v1/tasks?filter=todo`): addressed to it, without a
   * `succeeded`, `permfailed` or `claimed` result of its own. Long-polls as the options say; the proxy
   * answers 200 when the wait condition held and 206 when the time ran out, both with every match.
   */
  async pollPendingTasks<T = string>(opts: PollOptions = {}): Promise<TaskRequest<T>[]> {
    const path = (waitMs: number | undefined): string =>
      withQuery('/v1/tasks', { filter: 'todo', ...waitParams({ waitCount: opts.waitCount, waitTimeMs: waitMs }) });
    const answer = await this.poll(path, opts, [200, 206], opts.signal);
    const format = opts.bodies ?? this.bodies;
    return parseJsonArray<TaskRequest<unknown>>(answer.text, 'tasks').map((task) => decodeTask<T>(task, format));
  }

  /**
   * Puts this app's result on a task (`PUT /v1/tasks/{task}/results/{app}`). `from` defaults to this app,
   * `metadata` to null; a `claimed` result needs no body.
   *
   * @returns `'created'` (201) for the app's first result on the task, `'replaced'` (204) otherwise. A
   *   put retried after a lost answer reports `'replaced'` even if it was the first.
   */
  async putResult<T = string>(result: NewResult<T>, opts: BodyOptions = {}): Promise<PutOutcome> {
    const wire = wireResult(result, this.appId, opts.bodies ?? this.bodies);
    const path = `/v1/tasks/${segment(wire.task, 'result.task')}/results/${segment(this.appId, 'appId')}`;
    const spec: RequestSpec = { method: 'PUT', path, body: JSON.stringify(wire), signal: opts.signal };
    const answer = await withRetries(() => this.expect(spec, [201, 204]), this.policy, opts.signal);
    return answer.status === 201 ? 'created' : 'replaced';
  }

  /**
   * The results on a task this app created that are addressed to it (`GET /v1/tasks/{id}/results`),
   * each worker's newest. Long-polls as the options say; `claimed` results are returned but do not count
   * towards `waitCount`.
   */
  async pollResults<T = string>(taskId: string, opts: PollOptions = {}): Promise<TaskResult<T>[]> {
    const base = `/v1/tasks/${segment(taskId, 'taskId')}/results`;
    const path = (waitMs: number | undefined): string => withQuery(base, waitParams({ waitCount: opts.waitCount, waitTimeMs: waitMs }));
    const answer = await this.poll(path, opts, [200, 206], opts.signal);
    const format = opts.bodies ?? this.bodies;
    return parseJsonArray<TaskResult<unknown>>(answer.text, 'results').map((result) => decodeResult<T>(result, format));
  }

  /**
   * Streams a task's results as Server-Sent Events (`new_result`): every existing one first, then each
   * new or replaced one as it arrives, until `waitCount` non-claimed results arrived, `waitTimeMs`
   * passed, or the task expired (see {@link BeamEventStream.endReason}); without wait options, what
   * exists. Nothing is sent until the loop starts; leaving the loop closes the connection.
   */
  streamResults<T = string>(taskId: string, opts: StreamOptions = {}): BeamEventStream<TaskResult<T>> {
    const format = opts.bodies ?? this.bodies;
    const decode = (data: string) => decodeResult<T>(parseJson(data, 'new_result event') as TaskResult<unknown>, format);
    const path = `/v1/tasks/${segment(taskId, 'taskId')}/results`;
    return this.events<TaskResult<T>>(opts, { eventName: 'new_result', path, decode, counter: new ResultCounter() });
  }

  /**
   * Streams this app's pending tasks (`GET /v1/tasks?filter=todo` as Server-Sent Events, `new_task`, a
   * Beamline addition): the existing ones, then each new one, until `waitCount` tasks or `waitTimeMs`.
   * Leaving the loop closes the connection.
   */
  streamTasks<T = string>(opts: StreamOptions = {}): BeamEventStream<TaskRequest<T>> {
    const format = opts.bodies ?? this.bodies;
    const decode = (data: string) => decodeTask<T>(parseJson(data, 'new_task event') as TaskRequest<unknown>, format);
    return this.events<TaskRequest<T>>(opts, { eventName: 'new_task', path: '/v1/tasks', query: { filter: 'todo' }, decode, counter: new IdCounter() });
  }

  /**
   * Asks for a direct socket to app `to` (`POST /v1/sockets/{to}` with `Upgrade: tcp`) and resolves once
   * `to` connected to it (it finds the request with {@link listSockets}), with the byte stream to it.
   * Rejects with 410 `socket_expired` when nobody connected within the proxy's socket TTL (60 s by
   * default). Only failures before the request reached the proxy are retried, so no second request
   * is ever left behind. The signal aborts the wait, never the socket once returned.
   */
  async createSocket(to: string, opts: CreateSocketOptions = {}): Promise<Socket> {
    const headers: Record<string, string> = {};
    if (opts.metadata !== undefined) headers.metadata = asciiJson(opts.metadata);
    const spec: RequestSpec = { method: 'POST', path: `/v1/sockets/${segment(to, 'to')}`, headers, signal: opts.signal };
    return withRetries(() => upgrade(this.transport, spec), this.policy, opts.signal, upgradeNotSent);
  }

  /** The socket requests addressed to this app (`GET /v1/sockets`); long-polls as the options say. */
  async listSockets(opts: ListSocketsOptions = {}): Promise<SocketRequest[]> {
    const path = (waitMs: number | undefined): string => withQuery('/v1/sockets', waitParams({ waitCount: opts.waitCount, waitTimeMs: waitMs }));
    const answer = await this.poll(path, opts, [200, 206], opts.signal);
    return parseJsonArray<SocketRequest>(answer.text, 'socket requests');
  }

  /**
   * Connects to a socket request addressed to this app (`GET /v1/sockets/{id}` with `Upgrade: tcp`) and
   * resolves with the byte stream to its initiator. A request connects once: 404 after that, and for
   * unknown or expired ids.
   */
  async connectSocket(id: string, opts: CallOptions = {}): Promise<Socket> {
    const spec: RequestSpec = { method: 'GET', path: `/v1/sockets/${segment(id, 'id')}`, signal: opts.signal };
    return withRetries(() => upgrade(this.transport, spec), this.policy, opts.signal, upgradeNotSent);
  }

  /**
   * Sends a file to the apps in `to` (`POST /v1/files`, a Beamline addition), streamed as it is read: a file
   * path (its size is sent as `Content-Length`), a `Readable` or an async iterable of bytes (sent chunked).
   * Transient failures are retried from the start for a path (not after the whole body went out: the proxy
   * may hold the file), for a stream only while none of it was read. Fails with 413 `file_too_large`,
   * 424 `failed_dependency` (a recipient's proxy has no certificate), 507, or `source_error` (reading failed).
   */
  sendFile(to: string | string[], source: FileSource, opts: SendFileOptions = {}): Promise<SentFile> {
    return uploadFile(this.transport, this.policy, to, source, opts);
  }

  /** The files offered to this app (`GET /v1/files`); long-polls as the options say (200 or 206, both success). */
  async listFiles(opts: ListFilesOptions = {}): Promise<FileInfo[]> {
    const path = (waitMs: number | undefined): string => withQuery('/v1/files', waitParams({ waitCount: opts.waitCount, waitTimeMs: waitMs }));
    return parseJsonArray<FileInfo>((await this.poll(path, opts, [200, 206], opts.signal)).text, 'files');
  }

  /**
   * Streams the files offered to this app as Server-Sent Events (`GET /v1/files`, `new_file`, a Beamline
   * addition): the existing ones, then each new one, until `waitCount` files or `waitTimeMs`; resumes with
   * `Last-Event-ID` after a dropped connection. Leaving the loop closes the connection.
   */
  streamFiles(opts: StreamFilesOptions = {}): BeamEventStream<FileInfo> {
    const decode = (data: string) => parseJson(data, 'new_file event') as FileInfo;
    return this.events<FileInfo>(opts, { eventName: 'new_file', path: '/v1/files', decode, counter: new IdCounter() });
  }

  /**
   * Downloads file `id` from byte `offset` (`GET /v1/files/{id}`, `Range: bytes=<offset>-`). Resolves once the
   * proxy answered (a 404 rejects: not a recipient, expired or deleted) with a `Readable` of the bytes; a
   * connection cut mid-way is resumed from the first missing byte, and a download that cannot be completed
   * fails the stream with code `truncated`, never ends it early. The signal aborts the download too.
   */
  downloadFile(id: string, opts: DownloadFileOptions = {}): Promise<BeamFileDownload> {
    return openDownload(this.transport, this.policy, id, opts);
  }

  /** Drops file `id` for this app (`DELETE /v1/files/{id}`). A retry that meets 404 counts as done. */
  async deleteFile(id: string, opts: CallOptions = {}): Promise<void> {
    const spec: RequestSpec = { method: 'DELETE', path: `/v1/files/${segment(id, 'id')}`, signal: opts.signal };
    await withRetries(
      (attempt) =>
        this.expect(spec, [200, 204]).catch((err: unknown) => {
          if (!(attempt > 0 && err instanceof BeamHttpError && err.status === 404)) throw err;
        }),
      this.policy,
      opts.signal,
    );
  }

  private events<T>(opts: StreamOptions | StreamFilesOptions, listing: ListingEvents<T>): BeamEventStream<T> {
    return listingStream(this.transport, this.policy, this.streamIdleTimeoutMs, opts, listing);
  }

  /** One exchange that must answer one of `statuses`; any other answer is its {@link BeamHttpError}. */
  private async expect(spec: RequestSpec, statuses: number[]): Promise<Answer> {
    const answer = await exchange(this.transport, spec);
    if (!statuses.includes(answer.status)) throw httpError(`${spec.method} ${spec.path}`, answer.status, answer.text, headerOf(answer.headers, 'retry-after'));
    return answer;
  }

  /**
   * A read that may wait. A retry asks only for what is left of the wait, so retries never stretch a
   * long-poll beyond the time the caller gave it.
   */
  private poll(pathFor: (waitMs: number | undefined) => string, wait: WaitOptions, statuses: number[], signal?: AbortSignal): Promise<Answer> {
    const deadline = wait.waitTimeMs === undefined ? undefined : Date.now() + wait.waitTimeMs;
    waitParams(wait); // a bad option is a caller's error, thrown before any request
    let attempt = 0;
    return withRetries(
      () => {
        const remaining = deadline === undefined || attempt++ === 0 ? wait.waitTimeMs : Math.max(0, deadline - Date.now());
        return this.expect({ method: 'GET', path: pathFor(remaining), signal }, statuses);
      },
      this.policy,
      signal,
    );
  }

  /** True when the task stored under `sent.id` is the one this app sent (see {@link postTask}). */
  private storedAsSent(sent: TaskRequest<string>, signal?: AbortSignal): Promise<boolean> {
    const read = this.expect({ method: 'GET', path: `/v1/tasks/${segment(sent.id, 'id')}`, signal }, [200]);
    return read.then((answer) => isSameTask(sent, parseJson(answer.text, `task ${sent.id}`))).catch(() => false);
  }
}
