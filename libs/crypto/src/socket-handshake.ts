/**
 * Direct-socket key agreement between the two proxies, with forward secrecy.
 *
 * - The initiator proxy (role `a`) puts a fresh X25519 public key (`eph`, base64url raw 32 bytes) into
 *   its signed socket request (a message JWS stored on the broker).
 * - The recipient proxy (role `b`) verifies that request, makes its own fresh X25519 pair and sends, as the
 *   first bytes of the relay, `u32 length ‖ compact JWS` (PS256, kid = its certificate serial, typ
 *   `beamline-sock+jws`) over `{"socketId", "eph", "role":"b"}`; the initiator verifies it against the
 *   recipient proxy's certificate.
 * - Both derive `a2b` and `b2a` keys = HKDF-SHA-256(X25519 shared secret, salt = socket id (UTF-8),
 *   info = "beamline socket v1 a2b" / "beamline socket v1 b2a", 32 bytes). The private halves live only
 *   in memory for the socket's lifetime; a later compromise of a proxy key does not expose old streams.
 */
import { createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'crypto';
import { CryptoError } from './errors';
import { signCompactJws, verifyCompactJws } from './jws-core';

export const SOCKET_HANDSHAKE_TYP = 'beamline-sock+jws';
const MAX_HANDSHAKE_BYTES = 16 * 1024;

export interface SocketEphemeral {
  privateKey: KeyObject;
  /** base64url of the raw 32-byte public key. */
  publicKey: string;
}

export interface SocketKeys {
  a2b: Buffer;
  b2a: Buffer;
}

export function generateSocketEphemeral(): SocketEphemeral {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new CryptoError('malformed', 'cannot export the X25519 public key');
  return { privateKey, publicKey: x };
}

/** The two direction keys of socket `socketId` from our ephemeral private key and the peer's public key. */
export function deriveSocketKeys(own: KeyObject, peerPublic: string, socketId: string): SocketKeys {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: own, publicKey: createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublic }, format: 'jwk' }) });
  } catch {
    throw new CryptoError('malformed', 'bad X25519 public key');
  }
  if (shared.every((b) => b === 0)) throw new CryptoError('malformed', 'X25519: low-order public key');
  const key = (info: string) => Buffer.from(hkdfSync('sha256', shared, Buffer.from(socketId, 'utf8'), Buffer.from(info, 'utf8'), 32));
  const keys = { a2b: key('beamline socket v1 a2b'), b2a: key('beamline socket v1 b2a') };
  shared.fill(0);
  return keys;
}

export interface SocketHandshake {
  socketId: string;
  eph: string;
  role: 'b';
}

/** The recipient proxy's handshake record: u32 length ‖ signed JWS. */
export async function signSocketHandshake(h: SocketHandshake, privateKey: KeyObject, kid: string): Promise<Buffer> {
  const jws = Buffer.from(
    await signCompactJws(JSON.stringify({ socketId: h.socketId, eph: h.eph, role: h.role }), privateKey, kid, SOCKET_HANDSHAKE_TYP),
    'utf8',
  );
  const out = Buffer.alloc(4 + jws.length);
  out.writeUInt32BE(jws.length, 0);
  jws.copy(out, 4);
  return out;
}

/**
 * Splits a handshake record off the start of `buffered`: undefined while incomplete, else the JWS and
 * whatever followed it. @throws CryptoError('malformed') on an impossible length.
 */
export function splitSocketHandshake(buffered: Buffer): { jws: string; rest: Buffer } | undefined {
  if (buffered.length < 4) return undefined;
  const len = buffered.readUInt32BE(0);
  if (len === 0 || len > MAX_HANDSHAKE_BYTES) throw new CryptoError('malformed', 'socket handshake length out of range');
  if (buffered.length < 4 + len) return undefined;
  return { jws: buffered.subarray(4, 4 + len).toString('utf8'), rest: buffered.subarray(4 + len) };
}

/** Verifies the recipient proxy's handshake JWS for `socketId`; returns its ephemeral public key. */
export async function verifySocketHandshake(jws: string, publicKey: KeyObject, socketId: string): Promise<string> {
  const { payload } = await verifyCompactJws(jws, publicKey, SOCKET_HANDSHAKE_TYP);
  let h: Partial<SocketHandshake>;
  try {
    h = JSON.parse(Buffer.from(payload).toString('utf8')) as Partial<SocketHandshake>;
  } catch {
    throw new CryptoError('malformed', 'socket handshake is not JSON');
  }
  if (h.socketId !== socketId || h.role !== 'b' || typeof h.eph !== 'string')
    throw new CryptoError('bad_signature', 'socket handshake is for another socket or role');
  return h.eph;
}
