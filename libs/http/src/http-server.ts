/**
 * Answers, as `{"error","message"}` JSON, the requests Node's HTTP server would otherwise refuse by itself
 * with an empty body (or by closing the socket), before Express and Nest ever see them: malformed HTTP
 * (400), oversized request headers or URL (431), a request timeout (408), an `Expect` we do not support
 * (417), an HTTP/1.1 request without `Host` (400) and `CONNECT` (405); and a body announced larger than the
 * limit with `Expect: 100-continue` (413, before the client sends it).
 */
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';
import { currentRequestId } from './request-log';
import { runLoggedUpgrade } from './upgrade-log';

/** The status and JSON error Node's own `clientError` answer would have had. */
export function clientErrorResponse(err: { code?: string; message?: string }): { status: number; reason: string; body: { error: string; message: string } } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return {
        status: 431,
        reason: 'Request Header Fields Too Large',
        body: { error: 'headers_too_large', message: 'request: headers (or URL) larger than the server accepts' },
      };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'Payload Too Large', body: { error: 'payload_too_large', message: 'body: chunk extensions too large' } };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', body: { error: 'request_timeout', message: 'request: not received in time' } };
    default:
      return { status: 400, reason: 'Bad Request', body: { error: 'bad_request', message: `request: malformed HTTP (${err.code ?? 'parse error'})` } };
  }
}

/** A complete HTTP/1.1 response that closes the connection, for answers written straight to the socket. */
export function rawJsonResponse(status: number, reason: string, body: unknown): string {
  const json = JSON.stringify(body);
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\n${requestIdLine()}Connection: close\r\n\r\n${json}`;
}

/**
 * The `101` that turns a connection into a direct socket's byte stream; `extraHeaders` are complete
 * `Name: value\r\n` lines. `requestId` for a caller that answers outside the request's own async context.
 */
export function rawSwitchingResponse(extraHeaders = '', requestId = currentRequestId()): string {
  return `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${requestIdLine(requestId)}${extraHeaders}\r\n`;
}

/** Answers written to a raw socket echo the request id too, like every other answer. */
function requestIdLine(id = currentRequestId()): string {
  return id === undefined ? '' : `X-Request-Id: ${id}\r\n`;
}

export interface HardeningOptions {
  /**
   * A request that announces a larger body (`Content-Length`) and asks `Expect: 100-continue` is refused
   * with 413 before `100 Continue`, so the client never uploads a body that would be refused.
   */
  bodyLimitBytes?: number;
  /** Routes whose handler streams the body itself, with their own, larger limit (file uploads). */
  streamedBodies?: StreamedBodies;
}

/** Requests whose body a route streams itself (never buffered whole), and the most it takes. */
export interface StreamedBodies {
  matches: (req: IncomingMessage) => boolean;
  limitBytes: number;
}

/** How long the rest of a refused request is read before its connection is closed. */
const CLIENT_ERROR_LINGER_MS = 5_000;

export function hardenHttpServer(server: Server, opts: HardeningOptions = {}): void {
  const refused = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Node reports every later piece of a refused request as another error. Those are read and dropped until the
    // linger time is up: a socket destroyed with bytes unread resets the connection, and a client still writing
    // its (oversized) head would then fail with EPIPE or ECONNRESET instead of reading the answer.
    if (refused.has(socket) && err.code !== 'ECONNRESET') return;
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, reason, body } = clientErrorResponse(err);
    refused.add(socket);
    socket.end(rawJsonResponse(status, reason, body));
    setTimeout(() => socket.destroy(), CLIENT_ERROR_LINGER_MS).unref();
  });
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    sendJson(res, 417, { error: 'expectation_failed', message: 'Expect: only "100-continue" is supported' });
  });
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const announced = Number(req.headers['content-length'] ?? 0);
    const limit = opts.streamedBodies?.matches(req) ? opts.streamedBodies.limitBytes : opts.bodyLimitBytes;
    if (limit !== undefined && announced > limit) {
      sendJson(res, 413, { error: 'payload_too_large', message: `body: larger than the limit of ${limit} bytes` });
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    socket.end(rawJsonResponse(405, 'Method Not Allowed', { error: 'method_not_allowed', message: 'CONNECT: not supported' }));
  });
  // Node answers a Host-less HTTP/1.1 request with an empty 400 itself; requireHost (below) does it in JSON.
  (server as Server & { requireHostHeader?: boolean }).requireHostHeader = false;
}

/** HTTP/1.1 requires `Host` (RFC 9112 §3.2); without it: 400 JSON. */
export function requireHost(req: Request, res: Response, next: NextFunction): void {
  if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1 && req.headers.host === undefined) {
    res.status(400).json({ error: 'bad_request', message: 'Host: header required' });
    return;
  }
  next();
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(json), Connection: 'close' });
  res.end(json);
}

/**
 * Routes HTTP `Upgrade` requests that `claims` accepts to `handle`, with the raw socket: both real upgrades
 * (`Connection: Upgrade`) and requests that carry an `Upgrade` header without `Connection: Upgrade` (Python
 * `requests` sends `Connection: keep-alive`; Node would treat them as ordinary requests and keep parsing
 * HTTP on the connection). For those, the request is flagged as an upgrade before Express sees it, so Node
 * detaches its HTTP parser exactly as for a real upgrade and the connection becomes a byte stream.
 * Upgrade requests that `claims` refuses are answered by the app as ordinary requests (then the connection
 * closes), as Node does by default without an `upgrade` listener.
 */
export interface UpgradeRoute {
  /** The route pattern for access lines and metrics, e.g. `/v1/sockets/:id`. */
  route: string;
  claims(req: IncomingMessage): boolean;
  handle(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

export function routeUpgrades(server: Server, route: UpgradeRoute): void {
  const requestListeners = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.upgrade !== undefined && route.claims(req)) {
      // Node checks `req.upgrade` right after this event and then emits 'upgrade' with the raw socket.
      res.detachSocket(req.socket);
      (req as IncomingMessage & { upgrade: boolean }).upgrade = true;
      return;
    }
    for (const l of requestListeners) l.call(server, req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (route.claims(req)) {
      runLoggedUpgrade(server, route.route, req, socket, () => route.handle(req, socket, head));
      return;
    }
    // Not ours: answer it as an ordinary request on this connection, then close.
    socket.on('error', () => socket.destroy());
    if (head.length > 0) socket.unshift(head);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as Socket);
    res.on('finish', () => {
      res.detachSocket(socket as Socket);
      socket.end();
    });
    for (const l of requestListeners) l.call(server, req, res);
  });
}
