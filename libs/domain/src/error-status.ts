/**
 * The one table from an error's kind to its HTTP status, read both ways: broker-api answers a domain error
 * with its status (libs/http error-status.ts), and the proxy turns the broker's status back into the same
 * kind (apps/proxy broker-errors.ts), so the app sees what the broker meant.
 */
import type { ErrorKind } from './errors';

export const HTTP_STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unknown_recipients: 424,
  upgrade_required: 426,
  too_many_requests: 429,
  storage_full: 507,
  broker_unavailable: 502,
  broker_timeout: 504,
};

const KIND_BY_STATUS = new Map<number, ErrorKind>(Object.entries(HTTP_STATUS_BY_KIND).map(([kind, status]) => [status, kind as ErrorKind]));

/** The kind a status stands for (every status in the table names one kind); undefined for any other status. */
export function errorKindOfStatus(status: number): ErrorKind | undefined {
  return KIND_BY_STATUS.get(status);
}
