/**
 * CA signatures on directory events: compact JWS (RFC 7515), protected header
 * `{"alg":"PS256","kid":"<signer certificate serial>","typ":"beamline-pki+jws"}`, payload = UTF-8 JSON of
 * the event. Synchronous (Node's native RSA-PSS, SHA-256, MGF1-SHA-256, 32-byte salt = JWA PS256), so a
 * stream follower can verify each message in stream order; interoperable with `jose`.
 */
import { constants, sign, verify, type KeyObject } from 'node:crypto';
import { CryptoError } from '@beamline/crypto';
import { isPkiEvent, PKI_EVENT_JWS_TYP, type PkiEvent } from '@beamline/domain';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Decodes canonical unpadded base64url; `undefined` if `s` is not exactly that. */
function decodeBase64UrlStrict(s: string): Buffer | undefined {
  const buf = Buffer.from(s, 'base64url');
  return buf.toString('base64url') === s ? buf : undefined;
}

const PSS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as const;

/** Signs `event` with the CA key whose certificate serial is `kid`. */
export function signPkiEvent(event: PkiEvent, privateKey: KeyObject, kid: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'PS256', kid, typ: PKI_EVENT_JWS_TYP })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(event)).toString('base64url');
  const input = `${header}.${payload}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, ...PSS });
  return `${input}.${signature.toString('base64url')}`;
}

export interface UnverifiedPkiJws {
  kid: string;
  event: PkiEvent;
  /** `header.payload`, the signed bytes. */
  signingInput: string;
  signature: Buffer;
}

/**
 * Decodes a directory-event JWS without verifying it (to find the signer by `kid`).
 * @throws CryptoError('malformed') unless it is a compact JWS with alg PS256, typ beamline-pki+jws, a kid
 *         and a payload that is a directory event.
 */
export function readPkiJws(jws: string): UnverifiedPkiJws {
  if (typeof jws !== 'string' || !COMPACT_JWS.test(jws)) throw new CryptoError('malformed', 'not a compact JWS');
  const [h, p, s] = jws.split('.');
  const headerBytes = decodeBase64UrlStrict(h);
  const payloadBytes = decodeBase64UrlStrict(p);
  const signature = decodeBase64UrlStrict(s);
  if (!headerBytes || !payloadBytes || !signature) throw new CryptoError('malformed', 'JWS is not canonical base64url');
  let header: Record<string, unknown>;
  let event: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as Record<string, unknown>;
    event = JSON.parse(payloadBytes.toString('utf8'));
  } catch {
    throw new CryptoError('malformed', 'JWS header or payload is not JSON');
  }
  if (typeof header !== 'object' || header === null) throw new CryptoError('malformed', 'JWS header is not an object');
  if (header.alg !== 'PS256') throw new CryptoError('malformed', `JWS alg is ${String(header.alg)}, expected PS256`);
  if (header.typ !== PKI_EVENT_JWS_TYP) throw new CryptoError('malformed', `JWS typ is ${String(header.typ)}, expected ${PKI_EVENT_JWS_TYP}`);
  if (typeof header.kid !== 'string' || header.kid === '') throw new CryptoError('malformed', 'JWS has no kid');
  if (header.crit !== undefined) throw new CryptoError('malformed', 'JWS crit is not supported');
  if (!isPkiEvent(event)) throw new CryptoError('malformed', 'JWS payload is not a directory event');
  return { kid: header.kid, event, signingInput: `${h}.${p}`, signature };
}

/** True when the JWS's signature verifies with `publicKey`. */
export function pkiJwsSignatureValid(jws: UnverifiedPkiJws, publicKey: KeyObject): boolean {
  try {
    return verify('sha256', Buffer.from(jws.signingInput), { key: publicKey, ...PSS }, jws.signature);
  } catch {
    return false;
  }
}

/**
 * Verifies a directory-event JWS against the signer's public key and returns the event.
 * @throws CryptoError('malformed') (see {@link readPkiJws}) or CryptoError('bad_signature').
 */
export function verifyPkiEvent(jws: string, publicKey: KeyObject): { kid: string; event: PkiEvent } {
  const read = readPkiJws(jws);
  if (!pkiJwsSignatureValid(read, publicKey)) throw new CryptoError('bad_signature', 'directory event signature does not verify');
  return { kid: read.kid, event: read.event };
}
