/** Machine-readable reason for a {@link CryptoError}. */
export type CryptoErrorCode =
  | 'bad_signature'
  | 'decrypt_failed'
  | 'malformed'
  | 'bad_certificate'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_name'
  | 'untrusted'
  | 'stale_request'
  | 'digest_mismatch'
  | 'request_mismatch'
  /** An RSA key too small, or with a public exponent that protects nothing (rsa-key-policy.ts). */
  | 'weak_key';

/** The only error type thrown by `@beamline/crypto` for bad, tampered or untrusted input. */
export class CryptoError extends Error {
  constructor(
    readonly code: CryptoErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CryptoError';
  }
}

/** True when `err` is a {@link CryptoError}, optionally with the given code. */
export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}
