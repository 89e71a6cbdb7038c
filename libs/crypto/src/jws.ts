import { KeyObject } from 'crypto';
import { CryptoError } from './errors';
import { readJwsHeader, signCompactJws, verifyCompactJws } from './jws-core';

/**
 * Message signature wire format: compact JWS, protected header
 * `{"alg":"PS256","kid":<signer cert serial, lowercase hex>,"typ":"beamline-msg+jws"}`, payload = UTF-8 JSON
 * of the (sealed) message. The sender's proxy signs once; broker and receiving proxy verify.
 */
export const MESSAGE_JWS_TYP = 'beamline-msg+jws';

/** Signs `payload` (serialised with JSON.stringify) as a message JWS; `kid` is the signer certificate's serial. */
export async function signMessage(payload: object, privateKey: KeyObject, kid: string): Promise<string> {
  return signCompactJws(JSON.stringify(payload), privateKey, kid, MESSAGE_JWS_TYP);
}

/**
 * Reads `kid` from the protected header without verifying (to look up the signer's certificate).
 * @throws CryptoError('malformed') if `jws` is not a compact JWS with a kid.
 */
export function readJwsKid(jws: string): string {
  return readJwsHeader(jws).kid;
}

/**
 * Verifies a message JWS against the signer's public key and returns the parsed JSON payload.
 * @throws CryptoError('bad_signature') on any tampering, wrong key or wrong typ;
 *         CryptoError('malformed') if the string is not a compact JWS or the signed payload is not JSON.
 */
export async function verifyMessage<T = unknown>(jws: string, publicKey: KeyObject): Promise<T> {
  const { payload } = await verifyCompactJws(jws, publicKey, MESSAGE_JWS_TYP);
  try {
    return JSON.parse(Buffer.from(payload).toString('utf8')) as T;
  } catch {
    throw new CryptoError('malformed', 'signed payload is not JSON');
  }
}
