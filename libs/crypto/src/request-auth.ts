import { KeyObject, randomBytes } from 'crypto';
import { sha256Base64Url } from './digest';
import { decodeBase64UrlStrict } from './encoding';
import { CryptoError } from './errors';
import { readJwsHeader, signCompactJws, verifyCompactJws } from './jws-core';

/**
 * Request authentication wire format (proxy → broker): HTTP header
 * `Authorization: BeamlineSig <compact JWS>`, JWS protected header
 * `{"alg":"PS256","kid":<cert serial>,"typ":"beamline-req+jws"}`, payload JSON
 * `{"iss":proxyId,"m":METHOD,"p":pathAndQuery,"d":sha256b64url(body),"t":unixMs,"n":nonce}`.
 */
export const REQUEST_AUTH_SCHEME = 'BeamlineSig';
export const REQUEST_JWS_TYP = 'beamline-req+jws';

export interface RequestToSign {
  method: string;
  /** Path with query string exactly as sent on the request line, e.g. `/v1/tasks?to=a&wait_count=1`. */
  pathAndQuery: string;
  body?: Uint8Array | string;
}

export interface VerifiedRequest {
  proxyId: string;
  kid: string;
  timestamp: number;
  nonce: string;
}

interface RequestClaims {
  iss: string;
  m: string;
  p: string;
  d: string;
  t: number;
  n: string;
}

/** The digest a request with this body is authenticated with (sent as `Beam-Body-Digest` with a session MAC). */
export function requestBodyDigest(body: Uint8Array | string | undefined): string {
  return sha256Base64Url(body ?? new Uint8Array(0));
}

/**
 * Signs a request; returns the full `Authorization` header value `BeamlineSig <jws>`.
 * @param now timestamp to bind, ms since the epoch (default Date.now()).
 */
export async function signRequest(
  req: RequestToSign,
  signer: { privateKey: KeyObject; kid: string; proxyId: string },
  now: number = Date.now(),
): Promise<string> {
  const claims: RequestClaims = {
    iss: signer.proxyId,
    m: req.method.toUpperCase(),
    p: req.pathAndQuery,
    d: requestBodyDigest(req.body),
    t: now,
    n: randomBytes(16).toString('base64url'),
  };
  const jws = await signCompactJws(JSON.stringify(claims), signer.privateKey, signer.kid, REQUEST_JWS_TYP);
  return `${REQUEST_AUTH_SCHEME} ${jws}`;
}

/**
 * Splits an `Authorization` header value and reads the signer's kid, without verifying.
 * The scheme name is matched case-insensitively.
 * @throws CryptoError('malformed') if the header is missing, uses another scheme or carries no valid JWS.
 */
export function readRequestAuth(header: string | undefined): { kid: string; jws: string } {
  const m = typeof header === 'string' ? /^\s*(\S+)\s+(\S+)\s*$/.exec(header) : null;
  if (!m || m[1].toLowerCase() !== REQUEST_AUTH_SCHEME.toLowerCase()) {
    throw new CryptoError('malformed', `missing or non-${REQUEST_AUTH_SCHEME} Authorization header`);
  }
  const jws = m[2];
  return { kid: readJwsHeader(jws).kid, jws };
}

/** 16 to 48 random bytes, base64url: what signRequest and macRequest send (16 bytes, 22 characters). */
const NONCE_FORMAT = /^[A-Za-z0-9_-]{22,64}$/;

function parseClaims(payload: Uint8Array): RequestClaims {
  let c: Partial<Record<keyof RequestClaims, unknown>>;
  try {
    c = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    throw new CryptoError('malformed', 'request signature payload is not JSON');
  }
  // Bounded before anything else: the nonce becomes a NATS KV key, and a key longer than nats-server's
  // control line cut broker-api's connection (a 6,000-character nonce did).
  if (typeof c?.n !== 'string' || !NONCE_FORMAT.test(c.n))
    throw new CryptoError('malformed', 'request signature nonce: expected 22 to 64 base64url characters');
  const nonce = decodeBase64UrlStrict(c.n);
  if (
    typeof c !== 'object' ||
    c === null ||
    typeof c.iss !== 'string' ||
    c.iss === '' ||
    typeof c.m !== 'string' ||
    typeof c.p !== 'string' ||
    typeof c.d !== 'string' ||
    typeof c.t !== 'number' ||
    !Number.isFinite(c.t) ||
    !nonce ||
    nonce.length < 16
  ) {
    throw new CryptoError('malformed', 'request signature payload lacks iss, m, p, d, t or n');
  }
  return c as RequestClaims;
}

/** What a request's headers say, before its body is read; `bodyDigest` is what the body must hash to. */
export interface RequestHead {
  method: string;
  pathAndQuery: string;
}

/**
 * Verifies a `BeamlineSig` header against the request line received, before a byte of the body is read:
 * signature, method, path and query, freshness. Returns the body digest the signature binds, which the
 * caller checks the body against ({@link assertBodyDigest}) while or after reading it.
 * @throws CryptoError 'malformed' | 'bad_signature' | 'request_mismatch' | 'stale_request'.
 */
export async function verifyRequestHead(
  header: string,
  req: RequestHead,
  publicKey: KeyObject,
  opts: { now: number; maxSkewMs: number },
): Promise<VerifiedRequest & { bodyDigest: string }> {
  const { jws } = readRequestAuth(header);
  const { header: h, payload } = await verifyCompactJws(jws, publicKey, REQUEST_JWS_TYP);
  const c = parseClaims(payload);
  if (c.m !== req.method.toUpperCase()) throw new CryptoError('request_mismatch', `signed method ${c.m} ≠ ${req.method}`);
  if (c.p !== req.pathAndQuery) throw new CryptoError('request_mismatch', 'signed path/query differs from the request');
  if (Math.abs(c.t - opts.now) > opts.maxSkewMs) throw new CryptoError('stale_request', `request timestamp is ${c.t - opts.now} ms off`);
  return { proxyId: c.iss, kid: h.kid, timestamp: c.t, nonce: c.n, bodyDigest: c.d };
}

/** @throws CryptoError('digest_mismatch') unless `body` hashes to the digest the request was authenticated with. */
export function assertBodyDigest(body: Uint8Array | string | undefined, expected: string): void {
  if (requestBodyDigest(body) !== expected) throw new CryptoError('digest_mismatch', 'body digest differs from the signed one');
}

/**
 * Verifies a `BeamlineSig` header against the request actually received and the signer's public key.
 * The caller must still (1) check that the certificate for `kid` belongs to `proxyId` and (2) reject a
 * repeated `nonce` within ±maxSkewMs (shared state across replicas).
 * @throws CryptoError 'malformed' | 'bad_signature' | 'request_mismatch' (method/path/query) |
 *         'digest_mismatch' (body) | 'stale_request' (|t − now| > maxSkewMs).
 */
export async function verifyRequest(
  header: string,
  req: RequestToSign,
  publicKey: KeyObject,
  opts: { now: number; maxSkewMs: number },
): Promise<VerifiedRequest> {
  const { bodyDigest: signed, ...verified } = await verifyRequestHead(header, req, publicKey, opts);
  assertBodyDigest(req.body, signed);
  return verified;
}
