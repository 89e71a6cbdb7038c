/** The broker's error answers as the proxy's typed errors, so the app gets the same status and JSON error. */
import {
  BrokerUnavailable,
  Conflict,
  errorKindOfStatus,
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
  const kind = errorKindOfStatus(status);
  switch (kind) {
    case 'invalid_input':
      return new InvalidInput(message, code);
    case 'forbidden':
      return new Forbidden(message, code);
    case 'not_found':
      return new NotFound(message, code);
    case 'conflict':
      return new Conflict(message, code);
    case 'payload_too_large':
      return new PayloadTooLarge(message, code);
    case 'unknown_recipients':
      return new RecipientsWithoutCertificate(Array.isArray(body) ? (body as string[]) : []);
    case 'too_many_requests':
      return new TooManyRequests(message, code, retryAfterSeconds);
    case 'storage_full':
      return new StorageFull(typeof b.store === 'string' ? b.store : 'unknown', message);
    case 'unauthenticated':
      // The broker refused this proxy, not the app: the app's own credentials were fine.
      return new BrokerUnavailable(`broker refused this proxy: ${message}`, code ?? 'broker_refused');
    case 'upgrade_required':
    case 'broker_unavailable':
    case 'broker_timeout':
    case undefined:
      return new BrokerUnavailable(`broker: ${message}`, code ?? 'broker_error');
  }
}

function retryAfterSecondsOf(header: string | string[] | undefined): number | undefined {
  const seconds = Number(Array.isArray(header) ? header[0] : header);
  return Number.isInteger(seconds) && seconds > 0 ? seconds : undefined;
}
