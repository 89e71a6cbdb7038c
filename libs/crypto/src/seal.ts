import { KeyObject, constants, privateDecrypt, publicEncrypt, randomBytes } from 'crypto';
import { decodeBase64Strict } from './encoding';
import { CryptoError } from './errors';
import { POLY1305_TAG_BYTES, XCHACHA_KEY_BYTES, XCHACHA_NONCE_BYTES, xchachaDecrypt, xchachaEncrypt } from './xchacha';

/**
 * Sealed body wire format (Beam-compatible shape):
 * - `encrypted`: standard padded base64 of nonce(24) ‖ XChaCha20-Poly1305 ciphertext ‖ tag(16), UTF-8 body.
 * - `encryption_keys[i]`: standard padded base64 of RSA-OAEP(SHA-256, MGF1-SHA-256, empty label) of the
 *   32-byte message key under recipient i's public key; aligned with the recipient list (`to`).
 */
export interface SealedBody {
  /** base64(nonce24 ‖ ciphertext ‖ tag16) */
  encrypted: string;
  /** base64 RSA-OAEP ciphertexts, aligned with the recipient list */
  encryption_keys: string[];
}

function wrapKey(recipient: KeyObject, key: Buffer): string {
  if (recipient.asymmetricKeyType !== 'rsa') throw new CryptoError('malformed', 'recipient key is not an RSA key');
  return publicEncrypt({ key: recipient, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, key).toString('base64');
}

/**
 * Seals a UTF-8 body for the given recipients with a fresh random key and nonce.
 * A public key that appears several times (several apps behind one proxy) is wrapped once and the
 * wrapped key reused. `aad`, if given, must be given identically to {@link openBody}.
 */
export function sealBody(plaintext: string, recipientKeys: KeyObject[], aad?: Uint8Array): SealedBody {
  const key = randomBytes(XCHACHA_KEY_BYTES);
  const nonce = randomBytes(XCHACHA_NONCE_BYTES);
  const sealed = xchachaEncrypt(key, nonce, Buffer.from(plaintext, 'utf8'), aad);
  const wrapped: Array<{ pub: KeyObject; b64: string }> = [];
  const encryption_keys = recipientKeys.map((pub) => {
    const hit = wrapped.find((w) => w.pub === pub || w.pub.equals(pub));
    if (hit) return hit.b64;
    const b64 = wrapKey(pub, key);
    wrapped.push({ pub, b64 });
    return b64;
  });
  key.fill(0);
  return { encrypted: Buffer.concat([nonce, sealed]).toString('base64'), encryption_keys };
}

/**
 * Opens a sealed body with the recipient's private key and its index in `encryption_keys`.
 * Every failure (wrong key or index, any tampering, different aad, malformed fields) throws the same
 * CryptoError('decrypt_failed'), so callers cannot become a decryption oracle.
 */
export function openBody(sealed: { encrypted: string; encryption_keys: string[] }, keyIndex: number, privateKey: KeyObject, aad?: Uint8Array): string {
  const fail = (why: string): never => {
    throw new CryptoError('decrypt_failed', `cannot open sealed body: ${why}`);
  };
  const keys = sealed?.encryption_keys;
  if (!Array.isArray(keys) || !Number.isInteger(keyIndex) || keyIndex < 0 || keyIndex >= keys.length) return fail('bad key index');
  const blob = decodeBase64Strict(sealed.encrypted);
  if (!blob || blob.length < XCHACHA_NONCE_BYTES + POLY1305_TAG_BYTES) return fail('bad ciphertext');
  const wrappedKey = decodeBase64Strict(keys[keyIndex]);
  if (!wrappedKey) return fail('bad wrapped key');
  let key: Buffer;
  try {
    key = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrappedKey);
  } catch {
    return fail('key unwrap failed');
  }
  if (key.length !== XCHACHA_KEY_BYTES) return fail('key unwrap failed');
  try {
    return xchachaDecrypt(key, blob.subarray(0, XCHACHA_NONCE_BYTES), blob.subarray(XCHACHA_NONCE_BYTES), aad).toString('utf8');
  } catch {
    return fail('authentication failed');
  } finally {
    key.fill(0);
  }
}
