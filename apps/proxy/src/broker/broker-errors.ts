/** The broker's error answers as the proxy's typed errors, so the app gets the same status and JSON error. */
import {
  BrokerUnavailable,
  Conflict,
  Forbidden,
  InvalidInput,
  NotFound,
  PayloadTooLarge,
  RecipientsWithoutCertificate,
  StorageFull,
  TooManyRequests,
  type DomainError,
} from '@beamline/domain';

export function brokerError(status: number, body: unknown): DomainError {
  const b = (body ?? {}) as { error?: unknown; message?: unknown; store?: unknown };
  const message = typeof b.message === 'string' ? b.message : `broker answered ${status}`;
  const code = typeof b.error === 'string' ? b.error : undefined;
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
      return new TooManyRequests(message, code);
    case 507:
      return new StorageFull(typeof b.store === 'string' ? b.store : 'unknown', message);
    case 401:
      return new BrokerUnavailable(`broker refused this proxy: ${message}`, code ?? 'broker_refused');
    default:
      return new BrokerUnavailable(`broker: ${message}`, code ?? 'broker_error');
  }
}
