/** The error categories apps map to HTTP status codes in one place. */
export type ErrorKind =
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unknown_recipients'
  | 'upgrade_required'
  | 'too_many_requests'
  | 'storage_full'
  | 'broker_unavailable'
  | 'broker_timeout';

/** Base class of every domain error: `code` is the JSON `error` field, `kind` picks the HTTP status. */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    /** `{ cause }`: the error this one wraps, kept for the logs. */
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

/** Malformed input: wrong type, bad id, bad duration, ... (400). */
export class InvalidInput extends DomainError {
  constructor(message: string, code = 'invalid_input', options?: ErrorOptions) {
    super('invalid_input', code, message, options);
    this.name = 'InvalidInput';
  }
}

/** Missing or wrong credentials (401). */
export class Unauthenticated extends DomainError {
  constructor(message: string, code = 'unauthenticated', options?: ErrorOptions) {
    super('unauthenticated', code, message, options);
    this.name = 'Unauthenticated';
  }
}

/** Authenticated but not allowed (403). */
export class Forbidden extends DomainError {
  constructor(message: string, code = 'forbidden') {
    super('forbidden', code, message);
    this.name = 'Forbidden';
  }
}

/** Unknown, expired or invisible resource (404). */
export class NotFound extends DomainError {
  constructor(message: string, code = 'not_found', options?: ErrorOptions) {
    super('not_found', code, message, options);
    this.name = 'NotFound';
  }
}

/** The resource already exists, e.g. a live task with the same id (409). */
export class Conflict extends DomainError {
  constructor(message: string, code = 'conflict') {
    super('conflict', code, message);
    this.name = 'Conflict';
  }
}

/** The request body exceeds the configured limit (413). */
export class PayloadTooLarge extends DomainError {
  constructor(message: string, code = 'payload_too_large') {
    super('payload_too_large', code, message);
    this.name = 'PayloadTooLarge';
  }
}

/** Recipients whose proxies have no valid certificate (424, body = JSON array of their ProxyIds). */
export class RecipientsWithoutCertificate extends DomainError {
  constructor(readonly proxyIds: string[]) {
    super('unknown_recipients', 'unknown_recipients', `to: recipients without a valid certificate: ${proxyIds.join(', ')}`);
    this.name = 'RecipientsWithoutCertificate';
  }
}

/** A socket request without `Upgrade: tcp` (426). */
export class UpgradeRequired extends DomainError {
  constructor(message: string, code = 'upgrade_required') {
    super('upgrade_required', code, message);
    this.name = 'UpgradeRequired';
  }
}

/**
 * A participant is over one of its limits (429): concurrent uploads, waiting clients, a quota. The same
 * request succeeds later; `retryAfterSeconds` says when it is worth trying again (`Retry-After`).
 */
export class TooManyRequests extends DomainError {
  constructor(
    message: string,
    code = 'too_many_requests',
    readonly retryAfterSeconds = 1,
  ) {
    super('too_many_requests', code, message);
    this.name = 'TooManyRequests';
  }
}

/** The quotas every proxy is held to at the broker (README: Quotas). */
export type QuotaName = 'write_rate' | 'live_tasks' | 'live_bytes';

/**
 * A proxy is over one of its quotas; the JSON error is `quota_exceeded` and names the quota. The write rate and
 * the number of live tasks free up by themselves (429 with `Retry-After`); the bytes its live tasks and results
 * hold are storage it was granted (507).
 */
export class QuotaExceeded extends DomainError {
  constructor(
    readonly quota: QuotaName,
    message: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(quota === 'live_bytes' ? 'storage_full' : 'too_many_requests', 'quota_exceeded', message);
    this.name = 'QuotaExceeded';
  }
}

/**
 * A store (a JetStream stream or KV bucket, named in `store`) has no room for the write (507). Nothing was
 * written; the same request succeeds once space frees up (expired tasks are purged), so it is not retried.
 */
export class StorageFull extends DomainError {
  constructor(
    readonly store: string,
    message: string,
  ) {
    super('storage_full', 'storage_full', message);
    this.name = 'StorageFull';
  }
}

/** The broker could not be reached (502). */
export class BrokerUnavailable extends DomainError {
  constructor(message: string, code = 'broker_unavailable', options?: ErrorOptions) {
    super('broker_unavailable', code, message, options);
    this.name = 'BrokerUnavailable';
  }
}

/** The broker took too long to answer (504). */
export class BrokerTimeout extends DomainError {
  constructor(message: string, code = 'broker_timeout') {
    super('broker_timeout', code, message);
    this.name = 'BrokerTimeout';
  }
}
