/**
 * Request bodies are read raw (any content type: curl's `--data` sends form encoding) and parsed here, so
 * malformed JSON and oversized bodies are clear 400/413 answers rather than framework errors.
 */
import type { NextFunction, Request, Response } from 'express';
import { raw } from 'express';
import { InvalidInput, jsonTextTooDeep, MAX_JSON_DEPTH, PayloadTooLarge } from '@beamline/domain';

export function rawBodyParser(limitBytes: number): (req: Request, res: Response, next: NextFunction) => void {
  const parse = raw({ type: () => true, limit: limitBytes });
  return (req, res, next) =>
    parse(req, res, (err?: unknown) => {
      if (err) {
        const e = err as { status?: number; type?: string; message?: string };
        const status = e.status === 413 ? 413 : 400;
        res.status(status).json({
          error: status === 413 ? 'payload_too_large' : 'bad_body',
          message: status === 413 ? `body: larger than the limit of ${limitBytes} bytes` : `body: ${e.message ?? 'unreadable'}`,
        });
        return;
      }
      next();
    });
}

/** Whether the request announces a body (a non-zero Content-Length, or chunked transfer). */
export function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/**
 * Reads the body into `req.body` now, at most `limitBytes` (a larger Content-Length is refused before a byte
 * is read; a chunked body once it passes the limit): for apps that authenticate a request before they take
 * its body. @throws PayloadTooLarge (413), InvalidInput (400) for a body that cannot be read.
 */
export function readBody(req: Request, limitBytes: number): Promise<Buffer> {
  const parse = raw({ type: () => true, limit: limitBytes });
  return new Promise((resolve, reject) =>
    parse(req, undefined as never, (err?: unknown) => {
      if (!err) return resolve(bodyBytes(req));
      const e = err as { status?: number; message?: string };
      reject(
        e.status === 413
          ? new PayloadTooLarge(`body: larger than the limit of ${limitBytes} bytes`)
          : new InvalidInput(`body: ${e.message ?? 'unreadable'}`, 'bad_body'),
      );
    }),
  );
}

/** The raw request body (empty buffer when none was sent). */
export function bodyBytes(req: Request): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

export function parseJsonBody(req: Request): unknown {
  const bytes = bodyBytes(req);
  if (bytes.length === 0) throw new InvalidInput('body: expected JSON, got an empty body', 'bad_json');
  const text = bytes.toString('utf8');
  // Deeper documents parse fine but make every later JSON.stringify throw (a 500), so refuse them here.
  if (jsonTextTooDeep(text)) throw new InvalidInput(`body: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidInput(`body: malformed JSON (${(err as Error).message})`, 'bad_json', { cause: err });
  }
}

/** A single-valued query parameter; repeated parameters are rejected rather than silently merged. */
export function queryParam(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InvalidInput(`${name}: must be given once, as a plain value`);
  return v;
}
