/**
 * The one place that maps typed errors to HTTP: domain errors by kind (the domain's HTTP_STATUS_BY_KIND), crypto
 * errors by code.
 * Anything else is a bug and answers 500 (logged with the request id by the filter).
 */
import { DomainError, HTTP_STATUS_BY_KIND, QuotaExceeded, StorageFull, TooManyRequests } from '@beamline/domain';
import { CryptoError } from '@beamline/crypto';

/** Crypto failures that mean "you are not who you claim" (401); the rest are malformed input (400). */
const UNAUTHENTICATED_CRYPTO = new Set([
  'bad_signature',
  'bad_certificate',
  'expired',
  'not_yet_valid',
  'wrong_name',
  'untrusted',
  'stale_request',
  'replayed',
  'request_mismatch',
  'digest_mismatch',
  'weak_key',
]);

export interface HttpErrorResponse {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/**
 * NATS client failures (a node down, a leader election, a timeout, a direct get nobody answered): the broker
 * is briefly unavailable, not broken. 503 tells the proxy to retry (its writes are idempotent).
 */
const NATS_UNAVAILABLE = new Set([
  'DirectGetError',
  'TimeoutError',
  'NoRespondersError',
  'ConnectionError',
  'ClosedConnectionError',
  'DrainingConnectionError',
  'RequestError',
  'JetStreamError',
  'JetStreamNotEnabled',
]);

function isNatsUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (NATS_UNAVAILABLE.has(err.name) || NATS_UNAVAILABLE.has(err.constructor.name)) return true;
  // JetStream API errors with a 503 status ("JetStream system temporarily unavailable", no stream leader).
  const api = err as Error & { status?: number; code?: number; api_error?: { code?: number } };
  return api.constructor.name === 'JetStreamApiError' && (api.api_error?.code === 503 || api.status === 503);
}

export function httpErrorFor(err: unknown): HttpErrorResponse | undefined {
  if (isNatsUnavailable(err)) {
    return { status: 503, body: { error: 'nats_unavailable', message: `event log briefly unavailable, retry: ${(err as Error).message}` } };
  }
  if (err instanceof DomainError) {
    const status = HTTP_STATUS_BY_KIND[err.kind];
    if (err.kind === 'unknown_recipients') return { status, body: (err as DomainError & { proxyIds: string[] }).proxyIds };
    if (err instanceof QuotaExceeded) {
      const headers = status === 429 ? { 'Retry-After': String(err.retryAfterSeconds) } : undefined;
      return { status, body: { error: err.code, quota: err.quota, message: err.message }, headers };
    }
    if (err instanceof StorageFull) return { status, body: { error: err.code, message: err.message, store: err.store } };
    if (err instanceof TooManyRequests)
      return { status, body: { error: err.code, message: err.message }, headers: { 'Retry-After': String(err.retryAfterSeconds) } };
    const headers: Record<string, string> | undefined = err.kind === 'unauthenticated' ? { 'WWW-Authenticate': 'ApiKey' } : undefined;
    return { status, body: { error: err.code, message: err.message }, headers };
  }
  if (err instanceof CryptoError) {
    const status = UNAUTHENTICATED_CRYPTO.has(err.code) ? 401 : 400;
    return { status, body: { error: err.code, message: err.message } };
  }
  return undefined;
}
