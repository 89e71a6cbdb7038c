/**
 * Session request authentication (proxy → broker), so reads cost no private-key operation per request.
 *
 * A proxy opens a session once with a signed (`BeamlineSig`) request; the broker answers with a session id
 * and a 256-bit session key wrapped with RSA-OAEP-SHA-256 for the proxy's certificate (one private-key
 * operation at the proxy per session). The session key is HMAC-SHA-256(broker secret, label ‖ session id),
 * so every broker replica that shares the secret can recompute it; the id itself carries the proxy, the
 * certificate serial and the expiry. Later requests carry
 *
 *   Authorization: BeamlineMac <session id>.<timestamp ms>.<nonce>.<mac>
 *
 * with mac = base64url(HMAC-SHA-256(session key, "beamline-mac-v1" ‖ LF ‖ session id ‖ LF ‖ METHOD ‖ LF ‖
 * path-and-query ‖ LF ‖ sha256b64url(body) ‖ LF ‖ timestamp ‖ LF ‖ nonce)), binding the same things as a
 * request signature.
 */
import { constants, createHmac, privateDecrypt, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'crypto';
import { decodeBase64UrlStrict } from './encoding';
import { CryptoError } from './errors';
import { requestBodyDigest, type RequestHead, type RequestToSign } from './request-auth';

export const SESSION_AUTH_SCHEME = 'BeamlineMac';
const KEY_LABEL = 'beamline session key v1\n';
const MAC_LABEL = 'beamline-mac-v1';

export interface SessionClaims {
  proxyId: string;
  /** Serial of the certificate the session was opened with; the session dies with it. */
  serial: string;
  expiresAt: number;
}

/** A new session id carrying its claims and 128 random bits. */
export function newSessionId(claims: SessionClaims): string {
  return Buffer.from(JSON.stringify({ p: claims.proxyId, s: claims.serial, e: claims.expiresAt, r: randomBytes(16).toString('base64url') })).toString(
    'base64url',
  );
}

/** The claims inside a session id (not yet authenticated: only a valid MAC proves the id was issued). */
export function readSessionId(sessionId: string): SessionClaims {
  const raw = decodeBase64UrlStrict(sessionId);
  let c: { p?: unknown; s?: unknown; e?: unknown } | undefined;
  try {
    c = raw ? JSON.parse(raw.toString('utf8')) : undefined;
  } catch {
    c = undefined;
  }
  if (!c || typeof c.p !== 'string' || typeof c.s !== 'string' || typeof c.e !== 'number') throw new CryptoError('malformed', 'malformed session id');
  return { proxyId: c.p, serial: c.s, expiresAt: c.e };
}

/** The session key for `sessionId` under the brokers' shared secret. */
export function sessionKeyFor(secret: Uint8Array, sessionId: string): Buffer {
  return createHmac('sha256', secret)
    .update(KEY_LABEL + sessionId)
    .digest();
}

export function wrapSessionKey(key: Uint8Array, publicKey: KeyObject): string {
  return publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key).toString('base64');
}

export function unwrapSessionKey(wrapped: string, privateKey: KeyObject): Buffer {
  try {
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(wrapped, 'base64'));
  } catch {
    throw new CryptoError('decrypt_failed', 'cannot unwrap the session key');
  }
}

function macOf(key: Uint8Array, sessionId: string, req: RequestHead & { bodyDigest: string }, timestamp: number, nonce: string): Buffer {
  const input = [MAC_LABEL, sessionId, req.method.toUpperCase(), req.pathAndQuery, req.bodyDigest, String(timestamp), nonce].join('\n');
  return createHmac('sha256', key).update(input).digest();
}

/** What a MAC binds of a request: its line and its body's digest. */
function headOf(req: RequestToSign): RequestHead & { bodyDigest: string } {
  return { method: req.method, pathAndQuery: req.pathAndQuery, bodyDigest: requestBodyDigest(req.body) };
}

/**
 * The header a session-authenticated request carries its body's digest in (the MAC binds it), so the broker
 * checks the MAC before it reads a byte of the body, and then the body against the digest.
 */
export const BODY_DIGEST_HEADER = 'beam-body-digest';

/** The `Authorization` header value authenticating `req` within a session. */
export function macRequest(req: RequestToSign, session: { id: string; key: Uint8Array }, now: number = Date.now()): string {
  const nonce = randomBytes(16).toString('base64url');
  const head = headOf(req);
  return `${SESSION_AUTH_SCHEME} ${session.id}.${now}.${nonce}.${macOf(session.key, session.id, head, now, nonce).toString('base64url')}`;
}

export interface MacAuth {
  sessionId: string;
  timestamp: number;
  nonce: string;
  mac: Buffer;
}

/** Parses a `BeamlineMac` header (scheme matched case-insensitively) without verifying it. */
export function readMacAuth(header: string | undefined): MacAuth {
  const m = typeof header === 'string' ? /^\s*(\S+)\s+([A-Za-z0-9_-]+)\.(\d{1,15})\.([A-Za-z0-9_-]{22,64})\.([A-Za-z0-9_-]{43})\s*$/.exec(header) : null;
  if (!m || m[1].toLowerCase() !== SESSION_AUTH_SCHEME.toLowerCase())
    throw new CryptoError('malformed', `missing or malformed ${SESSION_AUTH_SCHEME} Authorization header`);
  return { sessionId: m[2], timestamp: Number(m[3]), nonce: m[4], mac: Buffer.from(m[5], 'base64url') };
}

/**
 * Verifies a `BeamlineMac` header against the request received and the session key (constant time).
 * The caller checks the session's claims (expiry, certificate still valid) and the nonce's freshness.
 * @throws CryptoError 'malformed' | 'bad_signature' (wrong MAC: any of session, method, path, query, body,
 *         time or nonce differs) | 'stale_request'.
 */
export function verifyMacRequest(
  header: string,
  req: RequestToSign | (RequestHead & { bodyDigest: string }),
  key: Uint8Array,
  opts: { now: number; maxSkewMs: number },
): MacAuth {
  const auth = readMacAuth(header);
  const head = 'bodyDigest' in req ? req : headOf(req);
  const expected = macOf(key, auth.sessionId, head, auth.timestamp, auth.nonce);
  if (!timingSafeEqual(expected, auth.mac)) throw new CryptoError('bad_signature', 'request MAC does not match');
  if (Math.abs(auth.timestamp - opts.now) > opts.maxSkewMs) throw new CryptoError('stale_request', `request timestamp is ${auth.timestamp - opts.now} ms off`);
  return auth;
}

/** True when an `Authorization` header uses the session scheme. */
export function isSessionAuth(header: string | undefined): boolean {
  return (
    typeof header === 'string' &&
    header
      .trimStart()
      .toLowerCase()
      .startsWith(SESSION_AUTH_SCHEME.toLowerCase() + ' ')
  );
}
