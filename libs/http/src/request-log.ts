/**
 * One middleware, first in every app: gives each request its id (`X-Request-Id`: the caller's when it is
 * well-formed, otherwise a new one), answers with it, runs the request with a logger bound to it (so every
 * line logged for the request carries `reqId`), and writes one access line when the answer is done.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { storage, Store } from 'nestjs-pino/storage';
import { pinoHttp } from 'pino-http';
import type { Logger as Pino } from 'pino';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Safe to log and to pass on: at most 128 characters of letters, digits and `._:-`. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function acceptableRequestId(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && REQUEST_ID.test(value) ? value : undefined;
}

export function newRequestId(): string {
  return randomUUID();
}

const requestIds = new AsyncLocalStorage<string>();

/** The id of the request this code runs for (the proxy passes it on to the broker); undefined outside one. */
export function currentRequestId(): string | undefined {
  return requestIds.getStore();
}

/** Runs `fn` (and everything it starts) as the request `id`. */
export function runWithRequestId<T>(id: string, fn: () => T): T {
  return requestIds.run(id, fn);
}

export interface RequestLogOptions {
  /** Who made the request, once the app's guard knows (e.g. `{ app }` at the proxy, `{ proxy }` at the broker). */
  callerOf?: (req: Request) => Record<string, string | undefined>;
  /** Called as each answer ends (finished or cut off), with what the access line says. */
  onEnd?: (req: Request, res: Response, line: AccessLine) => void;
}

export interface AccessLine {
  method: string;
  /** The matched route pattern (`/v1/tasks/:task_id`), or `unmatched`: bounded, unlike the path. */
  route: string;
  status: number;
  durationMs: number;
  /** False when the client went away before the answer was complete. */
  completed: boolean;
}

export function requestLogging(root: Pino, opts: RequestLogOptions = {}): (req: Request, res: Response, next: NextFunction) => void {
  const accessLine = (req: IncomingMessage, res: ServerResponse, durationMs: number): AccessLine => ({
    method: req.method ?? '',
    route: routeOf(req as Request),
    status: res.statusCode,
    durationMs,
    completed: res.writableEnded,
  });
  const fields = (req: IncomingMessage, res: ServerResponse, durationMs: number): Record<string, unknown> => ({
    ...accessLine(req, res, durationMs),
    path: pathOf(req),
    ...opts.callerOf?.(req as Request),
  });
  const http = pinoHttp({
    logger: root,
    quietReqLogger: true,
    quietResLogger: true,
    genReqId: (req, res) => {
      const id = acceptableRequestId(req.headers[REQUEST_ID_HEADER]) ?? newRequestId();
      res.setHeader('X-Request-Id', id);
      return id;
    },
    // A client that leaves (an aborted long-poll, a closed event stream) is normal: debug, not an error.
    customLogLevel: (_req, res, err) => (!res.writableEnded ? 'debug' : err || res.statusCode >= 500 ? 'warn' : 'info'),
    customSuccessObject: (req, res, value: { responseTime: number }) => fields(req, res, value.responseTime),
    customErrorObject: (req, res, _err, value: { responseTime: number }) => fields(req, res, value.responseTime),
    customSuccessMessage: (req, res, ms) => `${req.method} ${pathOf(req)} ${res.writableEnded ? res.statusCode : 'client went away'} ${ms} ms`,
    customErrorMessage: (req, res) => `${req.method} ${pathOf(req)} ${res.statusCode}`,
  });
  return (req, res, next) => {
    const started = Date.now();
    // 'close' comes for every answer, finished or cut off.
    if (opts.onEnd) res.once('close', () => opts.onEnd?.(req, res, accessLine(req, res, Date.now() - started)));
    http(req, res, () => {
      storage.run(new Store(req.log), () => requestIds.run(String(req.id), next));
    });
  };
}

function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' ? path : 'unmatched';
}

/** The path without its query (queries hold filters and waits, but a path is enough to find the request). */
function pathOf(req: IncomingMessage): string {
  const url = (req as Request).originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).slice(0, 256);
}
