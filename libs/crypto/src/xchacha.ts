import { createCipheriv, createDecipheriv } from 'crypto';
import { hchacha } from '@noble/ciphers/chacha';
import { CryptoError } from './errors';

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha): HChaCha20 (from @noble/ciphers) derives a subkey from the
 * key and the first 16 nonce bytes; Node's native ChaCha20-Poly1305 (RFC 8439) then runs with the 12-byte
 * nonce 0x00000000 ‖ nonce[16..24]. Byte-identical to @noble's `xchacha20poly1305`, ~7× faster.
 */

export const XCHACHA_KEY_BYTES = 32;
export const XCHACHA_NONCE_BYTES = 24;
export const POLY1305_TAG_BYTES = 16;

/** "expand 32-byte k" as little-endian words. */
const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);

function readWordsLE(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** HChaCha20(key, nonce[0..16]) → 32-byte subkey. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Buffer {
  if (key.length !== XCHACHA_KEY_BYTES || nonce16.length < 16) throw new RangeError('hchacha20: bad key or nonce length');
  const out = new Uint32Array(8);
  hchacha(SIGMA, readWordsLE(key, 0, 8), readWordsLE(nonce16, 0, 4), out);
  const subkey = Buffer.alloc(32);
  for (let i = 0; i < 8; i++) subkey.writeUInt32LE(out[i], i * 4);
  return subkey;
}

function innerParams(key: Uint8Array, nonce: Uint8Array): { subkey: Buffer; iv: Buffer } {
  if (key.length !== XCHACHA_KEY_BYTES) throw new RangeError('xchacha20poly1305: key must be 32 bytes');
  if (nonce.length !== XCHACHA_NONCE_BYTES) throw new RangeError('xchacha20poly1305: nonce must be 24 bytes');
  const iv = Buffer.alloc(12);
  iv.set(nonce.subarray(16, 24), 4);
  return { subkey: hchacha20(key, nonce.subarray(0, 16)), iv };
}

/** Encrypts with XChaCha20-Poly1305; returns ciphertext ‖ 16-byte tag (no nonce). */
export function xchachaEncrypt(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array): Buffer {
  const { subkey, iv } = innerParams(key, nonce);
  const cipher = createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: POLY1305_TAG_BYTES });
  if (aad && aad.length > 0) cipher.setAAD(aad, { plaintextLength: plaintext.length });
  const ct = cipher.update(plaintext);
  cipher.final();
  return Buffer.concat([ct, cipher.getAuthTag()]);
}

/**
 * Decrypts ciphertext ‖ tag produced by {@link xchachaEncrypt}.
 * @throws CryptoError('decrypt_failed') if authentication fails.
 */
export function xchachaDecrypt(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Buffer {
  if (sealed.length < POLY1305_TAG_BYTES) throw new CryptoError('decrypt_failed', 'ciphertext too short');
  const { subkey, iv } = innerParams(key, nonce);
  const ctLen = sealed.length - POLY1305_TAG_BYTES;
  try {
    const decipher = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: POLY1305_TAG_BYTES });
    if (aad && aad.length > 0) decipher.setAAD(aad, { plaintextLength: ctLen });
    decipher.setAuthTag(sealed.subarray(ctLen));
    const pt = decipher.update(sealed.subarray(0, ctLen));
    decipher.final();
    return pt;
  } catch {
    throw new CryptoError('decrypt_failed', 'authentication failed');
  }
}
