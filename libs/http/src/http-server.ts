/**
 * Answers, as `{"error","message"}` JSON, the requests Node's HTTP server would otherwise refuse by itself
 * with an empty body (or by closing the socket), before Express and Nest ever see them: malformed HTTP
 * (400), oversized request headers or URL (431), a request timeout (408), an `Expect` we do not support
 * (417), an HTTP/1.1 request without `Host` (400) and `CONNECT` (405).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { NextFunction, Request, Response } from 'express';

/** The status and JSON error Node's own `clientError` answer would have had. */
export function clientErrorResponse(err: { code?: string; message?: string }): { status: number; reason: string; body: { error: string; message: string } } {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, reason: 'Request Header Fields Too Large', body: { error: 'headers_too_large', message: 'request: headers (or URL) larger than the server accepts' } };
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
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`;
}

export function hardenHttpServer(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, reason, body } = clientErrorResponse(err);
    socket.end(rawJsonResponse(status, reason, body));
  });
  server.on('checkExpectation', (_req: IncomingMessage, res: ServerResponse) => {
    sendJson(res, 417, { error: 'expectation_failed', message: 'Expect: only "100-continue" is supported' });
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
