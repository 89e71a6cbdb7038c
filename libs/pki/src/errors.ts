/** Machine-readable reason for a {@link PkiError}. */
export type PkiErrorCode =
  | 'exists' // refusing to overwrite a CA directory or key file
  | 'missing' // a CA file is missing
  | 'invalid_input' // bad proxy id, serial, option value
  | 'bad_ca' // CA files unreadable or inconsistent (key not matching the certificate, chain broken)
  | 'ca_expired'
  | 'ca_not_yet_valid'
  | 'bad_csr' // unparsable CSR, invalid self-signature, weak key
  | 'wrong_name' // the CSR's CN is not the expected proxy id
  | 'not_found'; // e.g. revoking a serial the directory does not know

/** The one error type of `@beamline/pki`; its message is a complete sentence fit for a one-line CLI error. */
export class PkiError extends Error {
  constructor(
    readonly code: PkiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PkiError';
  }
}

export function isPkiError(err: unknown, code?: PkiErrorCode): err is PkiError {
  return err instanceof PkiError && (code === undefined || err.code === code);
}
