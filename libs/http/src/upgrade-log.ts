/**
 * Upgrade requests (direct sockets) leave Node's HTTP machinery before Express sees them, so they miss the
 * request-id and access-line middleware (request-log.ts). This gives them the same: the caller's
 * `X-Request-Id` (or a new one) for the whole exchange, echoed in the answer written to the raw socket
 * (`rawJsonResponse`, `rawSwitchingResponse`), and one access line as the answer's status line goes out.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request } from 'express';
import type { Logger as Pino } from 'pino';
import { acceptableRequestId, newRequestId, REQUEST_ID_HEADER, runWithRequestId, type AccessLine } from './request-log';

export interface UpgradeLogging {
  root: Pino;
  callerOf?: (req: Request) => Record<string, string | undefined>;
  onEnd?: (req: Request, line: AccessLine) => void;
}

const loggingOf = new WeakMap<Server, UpgradeLogging>();

/** Every upgrade route of `server` logs through `logging` (startHttpApp calls this). */
export function enableUpgradeLogging(server: Server, logging: UpgradeLogging): void {
  loggingOf.set(server, logging);
}

/**
 * Runs `handle` for an upgrade request of `server` under its request id, and logs the access line for it when
 * the handler writes the status line of its answer (or at debug when the client left before any answer).
 */
export function runLoggedUpgrade(server: Server, route: string, req: IncomingMessage, socket: Duplex, handle: () => void): void {
  const id = acceptableRequestId(req.headers[REQUEST_ID_HEADER]) ?? newRequestId();
  req.headers[REQUEST_ID_HEADER] = id;
  const logging = loggingOf.get(server);
  if (logging) {
    const started = Date.now();
    let logged = false;
    const log = (status: number | undefined): void => {
      if (logged) return;
      logged = true;
      const line: AccessLine = { method: req.method ?? '', route, status: status ?? 0, durationMs: Date.now() - started, completed: status !== undefined };
      const fields = { ...line, path: (req.url ?? '').split('?')[0].slice(0, 256), reqId: id, ...logging.callerOf?.(req as Request) };
      const level = status === undefined ? 'debug' : status >= 500 ? 'warn' : 'info';
      logging.root[level](fields, `${line.method} ${fields.path} ${status ?? 'client went away'} ${line.durationMs} ms`);
      logging.onEnd?.(req as Request, line);
    };
    onStatusLine(socket, log);
    socket.once('close', () => log(undefined));
  }
  runWithRequestId(id, handle);
}

/** Calls `seen` with the status of the first HTTP status line written to `socket`, then stops looking. */
function onStatusLine(socket: Duplex, seen: (status: number) => void): void {
  const { write, end } = socket;
  const peek = (chunk: unknown): void => {
    socket.write = write;
    socket.end = end;
    const text = typeof chunk === 'string' ? chunk.slice(0, 16) : Buffer.isBuffer(chunk) ? chunk.subarray(0, 16).toString('latin1') : '';
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
    if (status !== undefined) seen(Number(status));
  };
  socket.write = function (this: Duplex, chunk: unknown, ...rest: unknown[]) {
    peek(chunk);
    return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Duplex['write'];
  socket.end = function (this: Duplex, chunk?: unknown, ...rest: unknown[]) {
    if (chunk !== undefined && typeof chunk !== 'function') peek(chunk);
    return (end as (...args: unknown[]) => Duplex).call(this, chunk, ...rest);
  } as Duplex['end'];
}
