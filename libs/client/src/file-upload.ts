/**
 * `POST /v1/files` (Beamline's own addition to the app API): the file streams to the proxy as it is read,
 * never held in memory whole; the proxy seals it as it arrives.
 *
 * When may an upload be sent again? A file path can be read again from its start, so a transient failure
 * (refused, reset, 502–504) is retried — except a connection lost after the whole body went out: the proxy
 * may have stored the file, and a second upload would offer it twice. A stream or async iterable can be read
 * once: it is retried only while not a byte of it was read, i.e. when the connection failed before the body
 * started (the body starts once the connection is up, so a refused connection costs nothing).
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BeamAbortError, BeamError, BeamNetworkError, httpError } from './errors';
import { createRequest, headerOf, readText, toBeamError, type Answer, type RequestSpec, type Transport } from './http';
import { isTransient, withRetries, type RetryPolicy } from './retry';
import type { SendFileOptions, SentFile } from './types';
import { asciiJson, parseJson, withQuery } from './wire';

/** What {@link BeamClient.sendFile} sends: a file path, a readable stream, or an async iterable of bytes. */
export type FileSource = string | Readable | AsyncIterable<Uint8Array>;

/** A source, ready to be read (again, if it is replayable). */
interface OpenedSource {
  /** The bytes; a path opens the file anew on each call. */
  open(): AsyncIterable<Uint8Array | string>;
  /** The size of a regular file, sent as Content-Length; undefined: chunked. */
  length: number | undefined;
  /** True for a regular file, which can be sent again from its start. */
  replayable: boolean;
  what: string;
}

/** How far one attempt got. */
interface AttemptState {
  /** The first byte of the source was asked for. */
  started: boolean;
  /** The whole body was handed to the connection (the proxy may have all of it). */
  sent: boolean;
}

/** Sends a file to `to` and answers its id and expiry (see the module's notes on retries). */
export async function uploadFile(
  transport: Transport,
  policy: RetryPolicy,
  to: string | string[],
  source: FileSource,
  opts: SendFileOptions,
): Promise<SentFile> {
  const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
  if (opts.metadata !== undefined) headers['beam-metadata'] = asciiJson(opts.metadata);
  if (opts.ttl !== undefined && (typeof opts.ttl !== 'string' || opts.ttl === '')) throw new TypeError('ttl must be a non-empty string such as "1d"');
  const path = withQuery('/v1/files', { to: recipients(to).join(','), ttl: opts.ttl });
  const src = await sourceOf(source);
  if (src.length !== undefined) headers['content-length'] = String(src.length);
  const spec: RequestSpec = { method: 'POST', path, headers, streamed: true, signal: opts.signal };
  let state: AttemptState = { started: false, sent: false };
  const answer = await withRetries(
    async () => {
      state = { started: false, sent: false };
      const a = await uploadOnce(transport, spec, src, state, opts.onProgress);
      if (a.status !== 201) throw httpError(`POST ${path}`, a.status, a.text, headerOf(a.headers, 'retry-after'));
      return a;
    },
    policy,
    opts.signal,
    (err) => isTransient(err) && (src.replayable ? !(state.sent && err instanceof BeamNetworkError) : !state.started),
  ).catch((err: unknown) => {
    // A failed upload is over for the caller's stream too, even one never read (aborted while connecting).
    if (source instanceof Readable) source.destroy();
    throw err;
  });
  const sent = parseJson(answer.text, `POST ${path}`) as Partial<SentFile> | null;
  if (typeof sent?.id !== 'string' || typeof sent.expiresAt !== 'string') {
    throw new BeamError(`POST ${path}: expected {id, expiresAt} from the proxy`, { status: answer.status, code: 'invalid_response' });
  }
  return { id: sent.id, expiresAt: sent.expiresAt };
}

/** The recipients, checked: app ids, none empty, none with a comma (the query's separator). */
function recipients(to: string | string[]): string[] {
  const list = typeof to === 'string' ? [to] : to;
  if (!Array.isArray(list) || list.length === 0) throw new TypeError('to must name at least one recipient');
  for (const r of list) if (typeof r !== 'string' || r === '' || /[,\s]/.test(r)) throw new TypeError(`to: not an app id: ${JSON.stringify(r)}`);
  return list;
}

/** A path is stat'ed (its size is the Content-Length; only a regular file is replayable); anything else is read once. */
async function sourceOf(source: FileSource): Promise<OpenedSource> {
  if (typeof source !== 'string') {
    if (source === null || typeof (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== 'function') {
      throw new TypeError('source must be a file path, a Readable or an async iterable of bytes');
    }
    return { open: () => source, length: undefined, replayable: false, what: 'the source stream' };
  }
  let info;
  try {
    info = await stat(source);
  } catch (err) {
    throw sourceError(source, err);
  }
  if (info.isDirectory()) throw new BeamError(`sendFile: ${source} is a directory`, { code: 'source_error' });
  const regular = info.isFile();
  return { open: () => createReadStream(source), length: regular ? info.size : undefined, replayable: regular, what: source };
}

function sourceError(what: string, err: unknown): BeamError {
  return new BeamError(`sendFile: cannot read ${what}: ${err instanceof Error ? err.message : String(err)}`, { code: 'source_error', cause: err });
}

/**
 * One upload. The body starts once the connection is up; an answer that comes before the body is done (413,
 * 424) ends the upload and is the result. A failing source fails the call with code `source_error`.
 */
function uploadOnce(transport: Transport, spec: RequestSpec, src: OpenedSource, state: AttemptState, onProgress?: (n: number) => void): Promise<Answer> {
  const what = `${spec.method} ${spec.path}`;
  const { signal } = spec;
  return new Promise<Answer>((resolve, reject) => {
    const req = createRequest(transport, spec);
    let answered = false;
    let settled = false;
    let body: AsyncIterable<Uint8Array | string> | undefined;
    const onAbort = (): void => void req.destroy(new BeamAbortError(signal?.reason));
    const settle = (err: unknown, answer?: Answer): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (!state.sent) {
        req.destroy(); // nobody reads the rest of the body
        if (body instanceof Readable) body.destroy(); // unblocks a stream that waits for more to read
      }
      if (answer) resolve(answer);
      else reject(toBeamError(err, what, signal));
    };
    if (signal?.aborted) return settle(undefined);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => void (answered || settle(err)));
    req.on('response', (res) => {
      answered = true;
      readText(res, what, signal).then((text) => settle(undefined, { status: res.statusCode ?? 0, headers: res.headers, text }), settle);
    });
    req.on('socket', (socket: Socket) =>
      whenConnected(socket, () => {
        if (settled) return;
        state.started = true;
        body = src.open();
        pipeline(counted(body, src, state, onProgress), req).catch((err: unknown) => void (answered || settle(err)));
      }),
    );
  });
}

/** Runs `go` once the socket is connected (TLS included); a reused keep-alive socket is. */
function whenConnected(socket: Socket, go: () => void): void {
  if (!socket.connecting) return go();
  socket.once('encrypted' in socket ? 'secureConnect' : 'connect', go);
}

/** The source's bytes as Buffers, counted for `onProgress`; a failure to read is a `source_error`. Ending early closes the source. */
async function* counted(
  body: AsyncIterable<Uint8Array | string>,
  src: OpenedSource,
  state: AttemptState,
  onProgress?: (n: number) => void,
): AsyncGenerator<Buffer> {
  let bytes = 0;
  state.sent = src.length === 0;
  onProgress?.(0);
  const iterator = body[Symbol.asyncIterator]();
  let done = false;
  try {
    for (;;) {
      let next: IteratorResult<Uint8Array | string>;
      try {
        next = await iterator.next();
      } catch (err) {
        done = true; // a failed iterator is finished
        throw sourceError(src.what, err);
      }
      if ((done = next.done === true)) return void (state.sent = true);
      const v = next.value;
      const chunk = typeof v === 'string' ? Buffer.from(v) : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      bytes += chunk.length;
      // All of Content-Length handed over: the proxy may have the whole file before the source reports its end.
      if (src.length !== undefined && bytes >= src.length) state.sent = true;
      onProgress?.(bytes);
      yield chunk;
    }
  } finally {
    if (!done) await iterator.return?.();
  }
}
