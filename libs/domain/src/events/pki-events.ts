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

/**
 * An intermediate CA that issues proxy certificates; verifiers check it against their pinned root. Several
 * can be trusted at once (rotation with overlap): each certificate is checked against the one that issued
 * it. `serial` (lowercase hex) names the event's subject; events written before rotation existed lack it.
 */
export interface IntermediatePublished {
  type: 'IntermediatePublished';
  v: 1;
  pem: string;
  serial?: string;
}

/**
 * The root withdraws an intermediate: certificates it issued are no longer trusted, whatever the order in
 * which a verifier reads the events. There is no way back; a retired intermediate stays retired.
 */
export interface IntermediateRetired {
  type: 'IntermediateRetired';
  v: 1;
  serial: string;
  /** Milliseconds since the Unix epoch. */
  retiredAt: number;
  reason?: string;
}

export type PkiEvent = CertificatePublished | CertificateRevoked | IntermediatePublished | IntermediateRetired;

/** The events the root key signs; the others are signed by an intermediate. */
export function isRootSignedPkiEvent(event: PkiEvent): event is IntermediatePublished | IntermediateRetired {
  return event.type === 'IntermediatePublished' || event.type === 'IntermediateRetired';
}

/** What BEAM_PKI stores: the CA's compact JWS over the event JSON. */
export interface PkiEnvelope {
  jws: string;
}

export function isPkiEvent(value: unknown): value is PkiEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.v !== 1) return false;
  if (v.type === 'IntermediatePublished') return typeof v.pem === 'string' && (v.serial === undefined || isSerial(v.serial));
  if (!isSerial(v.serial)) return false;
  if (v.type === 'CertificatePublished') return typeof v.pem === 'string';
  if (v.type === 'CertificateRevoked') return isTime(v.revokedAt) && isOptionalText(v.reason);
  if (v.type === 'IntermediateRetired') return isTime(v.retiredAt) && isOptionalText(v.reason);
  return false;
}

export function isPkiEnvelope(value: unknown): value is PkiEnvelope {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>).jws === 'string';
}

/** Serials name NATS subjects: lowercase hex only, so no event can smuggle a wildcard or token separator. */
function isSerial(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{1,64}$/.test(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isOptionalText(value: unknown): boolean {
  return value === undefined || typeof value === 'string';
}
