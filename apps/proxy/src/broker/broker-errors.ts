/** The broker's error answers as the proxy's typed errors, so the app gets the same status and JSON error. */
import {
  BrokerUnavailable,
  Conflict,
  Forbidden,
  InvalidInput,
  NotFound,
  PayloadTooLarge,
  QuotaExceeded,
  RecipientsWithoutCertificate,
  StorageFull,
  TooManyRequests,
  type DomainError,
  type QuotaName,
} from '@beamline/domain';

const QUOTAS: readonly QuotaName[] = ['write_rate', 'live_tasks', 'live_bytes'];

/** `retryAfter`: the broker's Retry-After header, passed on to the app with a 429. */
export function brokerError(status: number, body: unknown, retryAfter?: string | string[]): DomainError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown; store?: unknown; quota?: unknown };
  const message = typeof b.message === 'string' ? b.message : `broker answered ${status}`;
  const code = typeof b.error === 'string' ? b.error : undefined;
  const retryAfterSeconds = retryAfterSecondsOf(retryAfter);
  if ((status === 429 || status === 507) && code === 'quota_exceeded' && QUOTAS.includes(b.quota as QuotaName)) {
    return new QuotaExceeded(b.quota as QuotaName, message, retryAfterSeconds);
  }
  switch (status) {
    case 400:
      return new InvalidInput(message, code);
    case 403:
      return new Forbidden(message, code);
    case 404:
      return new NotFound(message, code);
    case 409:
      return new Conflict(message, code);
    case 413:
      return new PayloadTooLarge(message, code);
    case 424:
      return new RecipientsWithoutCertificate(Array.isArray(body) ? (body as string[]) : []);
    case 429:
      return new TooManyRequests(message, code, retryAfterSeconds);
    case 507:
      return new StorageFull(typeof b.store === 'string' ? b.store : 'unknown', message);
    case 401:
      return new BrokerUnavailable(`broker refused this proxy: ${message}`, code ?? 'broker_refused');
    default:
      return new BrokerUnavailable(`broker: ${message}`, code ?? 'broker_error');
  }
}

function retryAfterSecondsOf(header: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}
