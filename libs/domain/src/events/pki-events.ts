/**
 * Certificate directory events (BEAM_PKI), the one place that knows their shapes. Every stored message is an
 * envelope `{"jws":"<compact JWS>"}` whose JWS payload is the event JSON, signed by the CA; this file only
 * says what a well-formed one is (no trust decisions: libs/pki verifies).
 */

/** The JWS `typ` of a CA-signed directory event. */
export const PKI_EVENT_JWS_TYP = 'beamline-pki+jws';

export interface CertificatePublished {
  type: 'CertificatePublished';
  v: 1;
  /** Lowercase hex, as in the certificate. */
  serial: string;
  pem: string;
}

export interface CertificateRevoked {
  type: 'CertificateRevoked';
  v: 1;
  serial: string;
  /** Milliseconds since the Unix epoch. */
  revokedAt: number;
  reason?: string;
}

/** The intermediate CA that issues proxy certificates; verifiers check it against their pinned root. */
export interface IntermediatePublished {
  type: 'IntermediatePublished';
  v: 1;
  pem: string;
}

export type PkiEvent = CertificatePublished | CertificateRevoked | IntermediatePublished;

/** What BEAM_PKI stores: the CA's compact JWS over the event JSON. */
export interface PkiEnvelope {
  jws: string;
}

export function isPkiEvent(value: unknown): value is PkiEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.v !== 1) return false;
  if (v.type === 'IntermediatePublished') return typeof v.pem === 'string';
  if (typeof v.serial !== 'string' || v.serial === '') return false;
  if (v.type === 'CertificatePublished') return typeof v.pem === 'string';
  if (v.type === 'CertificateRevoked') {
    return typeof v.revokedAt === 'number' && Number.isFinite(v.revokedAt) && (v.reason === undefined || typeof v.reason === 'string');
  }
  return false;
}

export function isPkiEnvelope(value: unknown): value is PkiEnvelope {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>).jws === 'string';
}
