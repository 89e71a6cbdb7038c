import { KeyObject } from 'crypto';
import { CompactSign, type CompactVerifyResult, compactVerify, decodeProtectedHeader } from 'jose';
import { CryptoError } from './errors';

/**
 * Compact JWS (RFC 7515) with alg PS256 and a protected header `{alg, kid, typ}` — the shared mechanics
 * behind message signatures (jws.ts) and request authentication (request-auth.ts). `typ` separates the
 * two uses, so a signature made for one can never be accepted as the other.
 */

export const JWS_ALG = 'PS256';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

export interface JwsHeader {
  alg: string;
  kid: string;
  typ: string;
}

/** Signs `payload` bytes (strings as UTF-8) as a compact PS256 JWS. */
export async function signCompactJws(payload: string | Uint8Array, privateKey: KeyObject, kid: string, typ: string): Promise<string> {
  const bytes = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  return new CompactSign(bytes).setProtectedHeader({ alg: JWS_ALG, kid, typ }).sign(privateKey);
}

/**
 * Decodes the protected header without verifying anything.
 * @throws CryptoError('malformed') if `jws` is not a compact JWS with string `alg`, `kid` and `typ`.
 */
const MAX_KID_LENGTH = 128;

export function readJwsHeader(jws: string): JwsHeader {
  if (typeof jws !== 'string' || !COMPACT_JWS.test(jws)) throw new CryptoError('malformed', 'not a compact JWS');
  let h: Record<string, unknown>;
  try {
    h = decodeProtectedHeader(jws) as Record<string, unknown>;
  } catch {
    throw new CryptoError('malformed', 'JWS protected header is not valid base64url JSON');
  }
  const { alg, kid, typ } = h;
  if (typeof alg !== 'string' || typeof kid !== 'string' || kid === '' || typeof typ !== 'string') {
    throw new CryptoError('malformed', 'JWS protected header lacks alg, kid or typ');
  }
  // A kid names a certificate serial (hex, at most 20 bytes by RFC 5280); it is looked up and logged.
  if (kid.length > MAX_KID_LENGTH || alg.length > 16 || typ.length > 64)
    throw new CryptoError('malformed', `JWS protected header: kid longer than ${MAX_KID_LENGTH} characters, or alg/typ too long`);
  return { alg, kid, typ };
}

/**
 * Verifies a compact PS256 JWS of the expected `typ` and returns its header and payload bytes.
 * @throws CryptoError('malformed') if not of compact form, CryptoError('bad_signature') for any other failure.
 */
export async function verifyCompactJws(jws: string, publicKey: KeyObject, typ: string): Promise<{ header: JwsHeader; payload: Uint8Array }> {
  if (typeof jws !== 'string' || !COMPACT_JWS.test(jws)) throw new CryptoError('malformed', 'not a compact JWS');
  let result: CompactVerifyResult;
  try {
    result = await compactVerify(jws, publicKey, { algorithms: [JWS_ALG] });
  } catch (err) {
    throw new CryptoError('bad_signature', `JWS verification failed: ${(err as Error).message}`, { cause: err });
  }
  const { kid, typ: gotTyp, alg } = result.protectedHeader;
  if (gotTyp !== typ) throw new CryptoError('bad_signature', `JWS typ is ${String(gotTyp)}, expected ${typ}`);
  if (typeof kid !== 'string' || kid === '') throw new CryptoError('bad_signature', 'JWS has no kid');
  return { header: { alg, kid, typ }, payload: result.payload };
}
