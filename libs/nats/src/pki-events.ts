/**
 * Certificate directory events as BEAM_PKI stores them (their shapes: libs/domain events/pki-events.ts).
 *
 * Every stored message is an envelope `{"jws":"<compact JWS>"}` whose JWS payload is the event JSON; the
 * CA signs it (IntermediatePublished with the root key, the others with the intermediate key). Signing,
 * verifying and publishing live in `@beamline/pki`; this file only parses (no trust decisions).
 */
import { isPkiEnvelope, type PkiEnvelope, type PkiEvent } from '@beamline/domain';
import { decodeJson, encodeJson } from './codec';
import { subjects } from './subjects';

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
      return event.serial === undefined ? subjects.intermediatePublished : subjects.intermediate(event.serial);
    case 'IntermediateRetired':
      return subjects.intermediateRetired(event.serial);
    case 'CertificatePublished':
      return subjects.certificatePublished(event.serial);
    case 'CertificateRevoked':
      return subjects.certificateRevoked(event.serial);
  }
}
