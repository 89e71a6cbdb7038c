import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { httpErrorFor, type HttpErrorResponse } from './error-status';

/** Answers every error as `{"error","message"}` JSON; unexpected errors are logged and answered 500. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(err: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request>();
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // The client went away (an app that aborted its long-poll): whatever failed for it is nobody's error.
    if (clientGone(req, res)) {
      this.logger.debug(`${req.method} ${pathOf(req)}: client went away (${(err as { name?: string } | undefined)?.name ?? 'error'})`);
      res.destroy();
      return;
    }
    const mapped = httpErrorFor(err) ?? fromNestException(err);
    // A route may have set another type already (e.g. @Header('Content-Type', 'application/x-pem-file')),
    // and res.json() keeps a Content-Type that is set: the error body is JSON, so say so.
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    if (mapped) {
      // An operator wants to see when the broker could not serve (NATS down, an election), not only the app.
      if (mapped.status >= 500) this.logger.warn(`${req.method} ${req.originalUrl}: ${mapped.status} ${describe(mapped.body)}`);
      if (mapped.status === 401) refusedAuthentication(this.logger, req, mapped.body);
      for (const [k, v] of Object.entries(mapped.headers ?? {})) res.setHeader(k, v);
      res.status(mapped.status).json(mapped.body);
      return;
    }
    this.logger.error(`${req.method} ${req.originalUrl}: ${err instanceof Error ? err.stack : String(err)}`);
    res.status(500).json({ error: 'internal', message: 'internal error' });
  }
}

/** Framework errors that reach the filter, e.g. 400 for an undecodable path segment (`/v1/tasks/%`). */
const NEST_CODES: Record<number, string> = { 400: 'bad_request', 404: 'not_found', 405: 'method_not_allowed', 413: 'payload_too_large' };

function fromNestException(err: unknown): HttpErrorResponse | undefined {
  if (!(err instanceof HttpException)) return undefined;
  const status = err.getStatus();
  const code = NEST_CODES[status] ?? 'http_error';
  const message = status === 404 ? 'no such route' : err.message;
  return { status, body: { error: code, message } };
}

/**
 * A refused authentication, with its reason (the error code: `unauthenticated`, `replayed`, `bad_signature`,
 * …). An expired session is routine (the proxy reopens it): info; anything else: warn.
 */
function refusedAuthentication(logger: Logger, req: Request, body: unknown): void {
  const reason = (body as { error?: string } | undefined)?.error ?? 'unauthenticated';
  const line = `${req.method} ${pathOf(req)}: authentication refused (${describe(body)})`;
  if (reason === 'session_expired') logger.log({ reason }, line);
  else logger.warn({ reason }, line);
  authFailureListeners.forEach((listener) => listener(reason));
}

const authFailureListeners: ((reason: string) => void)[] = [];

/** Calls `listener` with the reason of every authentication the error filter answers 401 (metrics). */
export function onAuthenticationRefused(listener: (reason: string) => void): void {
  authFailureListeners.push(listener);
}

function clientGone(req: Request, res: Response): boolean {
  const socket = req.socket as Request['socket'] | undefined;
  return socket?.destroyed === true || res.destroyed === true;
}

function pathOf(req: Request): string {
  const q = req.originalUrl.indexOf('?');
  return q < 0 ? req.originalUrl : req.originalUrl.slice(0, q);
}

function describe(body: unknown): string {
  const { error, message } = (body ?? {}) as { error?: string; message?: string };
  return [error, message].filter(Boolean).join(': ');
}
