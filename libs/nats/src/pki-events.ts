/**
 * Certificate directory events on the BEAM_PKI stream — the one place that knows their shapes.
 *
 * Every stored message is an envelope `{"jws":"<compact JWS>"}` whose JWS payload is the event JSON; the
 * CA signs it (IntermediatePublished with the root key, the others with the intermediate key). Signing,
 * verifying and publishing live in `@beamline/pki`; this file only parses (no trust decisions).
 */
import { decodeJson, encodeJson } from './codec';
import { subjects } from './subjects';

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

/** The stored bytes for a signed event. */
export function encodePkiEnvelope(jws: string): Uint8Array {
  const envelope: PkiEnvelope = { jws };
  return encodeJson(envelope);
}

/** The compact JWS of a stored message, or undefined if it is not an envelope (e.g. an unsigned event). */
export function decodePkiEnvelope(data: Uint8Array): string | undefined {
  let value: unknown;
  try {
    value = decodeJson(data);
  } catch {
    return undefined;
  }
  return isPkiEnvelope(value) ? value.jws : undefined;
}

/** The subject an event belongs on; a verifier rejects an event found on any other subject. */
export function pkiEventSubject(event: PkiEvent): string {
  switch (event.type) {
    case 'IntermediatePublished':
      return subjects.intermediatePublished;
    case 'CertificatePublished':
      return subjects.certificatePublished(event.serial);
    case 'CertificateRevoked':
      return subjects.certificateRevoked(event.serial);
  }
}
