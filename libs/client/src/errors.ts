/**
 * Every failure of the client is a {@link BeamError}: an HTTP answer the call did not expect, a network
 * failure that outlasted the retries, an abort, or a body that could not be decoded.
 */

/** Codes for error answers without a JSON `error` field (e.g. 424 answers an array of proxy ids). */
const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  424: 'failed_dependency',
  426: 'upgrade_required',
  429: 'too_many_requests',
  500: 'internal',
  502: 'bad_gateway',
  503: 'service_unavailable',
  504: 'gateway_timeout',
  507: 'insufficient_storage',
};

/** The base of every error the client throws. */
export class BeamError extends Error {
  /** The HTTP status of the proxy's answer; undefined when there was no answer (network, abort, decoding). */
  readonly status: number | undefined;
  /**
   * What went wrong, machine-readable: the proxy's JSON `error` field (`task_exists`, `payload_too_large`,
   * `quota_exceeded`, ...), a name for the status when the answer has none (`failed_dependency`), the
   * system error code of a network failure (`ECONNREFUSED`), `aborted`, or `invalid_body`.
   */
  readonly code: string;
  /** The parsed JSON of the error answer, if it was JSON (for 424: the array of proxy ids without a certificate). */
  readonly details: unknown;
  /** From a `Retry-After` header (429), in milliseconds. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, fields: { status?: number; code: string; details?: unknown; retryAfterMs?: number; cause?: unknown }) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'BeamError';
    this.status = fields.status;
    this.code = fields.code;
    this.details = fields.details;
    this.retryAfterMs = fields.retryAfterMs;
  }
}

/** The proxy answered with a status the call does not accept (4xx, 5xx, or a 2xx it did not expect). */
export class BeamHttpError extends BeamError {
  declare readonly status: number;

  constructor(message: string, fields: { status: number; code: string; details?: unknown; retryAfterMs?: number }) {
    super(message, fields);
    this.name = 'BeamHttpError';
  }
}

/** No answer: the connection failed (refused, reset, hung up, DNS) on every attempt. `code` is the system error code. */
export class BeamNetworkError extends BeamError {
  constructor(message: string, code: string, cause: unknown) {
    super(message, { code, cause });
    this.name = 'BeamNetworkError';
  }
}

/**
 * The caller's `AbortSignal` fired. Its `name` is `AbortError`, as for `fetch`, so code that checks
 * `err.name === 'AbortError'` works; `cause` is the signal's reason.
 */
export class BeamAbortError extends BeamError {
  constructor(reason: unknown) {
    super('the operation was aborted', { code: 'aborted', cause: reason });
    this.name = 'AbortError';
  }
}

/** A received body was not what the call's {@link BodyFormat} promised (not JSON in `'json'` mode). */
export class BeamBodyError extends BeamError {
  /** The body as it arrived. */
  readonly rawBody: string;

  constructor(message: string, rawBody: string, cause: unknown) {
    super(message, { code: 'invalid_body', cause });
    this.name = 'BeamBodyError';
    this.rawBody = rawBody;
  }
}

/** Throws a {@link BeamAbortError} if the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new BeamAbortError(signal.reason);
}

/** Builds the error for a non-success answer from its status, headers and body text. */
export function httpError(what: string, status: number, text: string, retryAfter: string | undefined): BeamHttpError {
  let details: unknown;
  try {
    details = text === '' ? undefined : JSON.parse(text);
  } catch {
    details = text;
  }
  const fields = details !== null && typeof details === 'object' && !Array.isArray(details) ? (details as Record<string, unknown>) : {};
  const code = typeof fields.error === 'string' ? fields.error : (STATUS_CODES[status] ?? `http_${status}`);
  const reason = typeof fields.message === 'string' ? fields.message : Array.isArray(details) ? JSON.stringify(details) : undefined;
  const message = `${what}: ${status} ${code}${reason ? `: ${reason}` : ''}`;
  return new BeamHttpError(message, { status, code, details, retryAfterMs: parseRetryAfter(retryAfter) });
}

/** `Retry-After` in seconds or as an HTTP date, in milliseconds from now. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
