/**
 * The one place that maps typed errors to HTTP: domain errors by kind, crypto errors by code.
 * Anything else is a bug and answers 500 (logged with the request id by the filter).
 */
import { DomainError, type ErrorKind } from '@beamline/domain';
import { CryptoError } from '@beamline/crypto';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unknown_recipients: 424,
  upgrade_required: 426,
  broker_unavailable: 502,
  broker_timeout: 504,
};

/** Crypto failures that mean "you are not who you claim" (401); the rest are malformed input (400). */
const UNAUTHENTICATED_CRYPTO = new Set(['bad_signature', 'bad_certificate', 'expired', 'not_yet_valid', 'wrong_name', 'untrusted', 'stale_request', 'replayed', 'request_mismatch', 'digest_mismatch']);

export interface HttpErrorResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function httpErrorFor(err: unknown): HttpErrorResponse | undefined {
  if (err instanceof DomainError) {
    const status = STATUS_BY_KIND[err.kind];
    if (err.kind === 'unknown_recipients') return { status, body: (err as DomainError & { proxyIds: string[] }).proxyIds };
    const headers: Record<string, string> | undefined = err.kind === 'unauthenticated' ? { 'WWW-Authenticate': 'ApiKey' } : undefined;
    return { status, body: { error: err.code, message: err.message }, headers };
  }
  if (err instanceof CryptoError) {
    const status = UNAUTHENTICATED_CRYPTO.has(err.code) ? 401 : 400;
    return { status, body: { error: err.code, message: err.message } };
  }
  return undefined;
}
