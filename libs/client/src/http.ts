/**
 * One HTTP exchange with the proxy over `node:http`/`node:https`. Not `fetch`: Node's fetch gives up on
 * an answer whose headers take more than 300 s, and a long-poll may legitimately wait an hour; nor can
 * fetch hand over the connection of an `Upgrade: tcp` answer, which direct sockets need.
 */
import { request as httpRequest, type Agent as HttpAgent, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import { BeamAbortError, BeamError, BeamNetworkError, throwIfAborted } from './errors';

/** Where and as whom requests go. */
export interface Transport {
  readonly baseUrl: URL;
  /** Sent with every request (authorization, user-agent). */
  readonly headers: Readonly<Record<string, string>>;
  readonly agent: HttpAgent | HttpsAgent | undefined;
}

/** One request: `path` holds the query string too. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The caller streams the body itself (its headers name the length or leave it chunked). */
  streamed?: boolean;
  signal?: AbortSignal;
}

/** A whole answer. */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** The URL of `path` under the proxy's URL (which may carry a path prefix of its own). */
export function urlOf(transport: Transport, path: string): URL {
  const base = transport.baseUrl;
  return new URL(base.pathname.replace(/\/+$/, '') + path, base);
}

/** Creates the request without sending it; the caller ends it. Bodies are JSON text. */
export function createRequest(transport: Transport, spec: RequestSpec): ClientRequest {
  const url = urlOf(transport, spec.path);
  const headers: Record<string, string> = { ...transport.headers, ...spec.headers };
  if (spec.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(spec.body));
  } else if (spec.method !== 'GET' && !spec.streamed) {
    headers['content-length'] = '0';
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return send(url, { method: spec.method, headers, agent: transport.agent });
}

/** Turns whatever a request failed with into a {@link BeamError}; an aborted signal always wins. */
export function toBeamError(err: unknown, what: string, signal: AbortSignal | undefined): BeamError {
  if (signal?.aborted) return new BeamAbortError(signal.reason);
  if (err instanceof BeamError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return new BeamNetworkError(`${what}: ${message}`, typeof code === 'string' ? code : 'network_error', err);
}

/**
 * Sends the request and resolves with the answer's head; the body is left to the caller to read (or to
 * destroy). The signal aborts the request and, later, the body.
 */
export function openResponse(transport: Transport, spec: RequestSpec): Promise<IncomingMessage> {
  const what = `${spec.method} ${spec.path}`;
  return new Promise((resolve, reject) => {
    throwIfAborted(spec.signal);
    const req = createRequest(transport, spec);
    const onAbort = (): void => {
      req.destroy(new BeamAbortError(spec.signal?.reason));
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => {
      spec.signal?.removeEventListener('abort', onAbort);
      reject(toBeamError(err, what, spec.signal));
    });
    req.on('response', (res) => {
      // The listener stays until the body is consumed, so that an abort while reading ends the read.
      res.once('close', () => spec.signal?.removeEventListener('abort', onAbort));
      resolve(res);
    });
    req.end(spec.body);
  });
}

/** Reads a whole body as UTF-8 text. */
export async function readText(res: IncomingMessage, what: string, signal: AbortSignal | undefined): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of res) chunks.push(chunk as Buffer);
  } catch (err) {
    throw toBeamError(err, what, signal);
  }
  throwIfAborted(signal);
  // An answer cut before its end (the proxy cuts a listing it could not finish) must not look complete.
  if (!res.complete) throw new BeamNetworkError(`${what}: the answer was cut off`, 'ECONNRESET', undefined);
  return Buffer.concat(chunks).toString('utf8');
}

/** One request and its whole answer. Network failures and aborts reject with a {@link BeamError}. */
export async function exchange(transport: Transport, spec: RequestSpec): Promise<Answer> {
  const res = await openResponse(transport, spec);
  const text = await readText(res, `${spec.method} ${spec.path}`, spec.signal);
  return { status: res.statusCode ?? 0, headers: res.headers, text };
}

/** A header's single value. */
export function headerOf(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
