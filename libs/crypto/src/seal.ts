import { KeyObject, createHash, createHmac, privateDecrypt, publicEncrypt, randomBytes, timingSafeEqual } from 'crypto';
import { lp, oaep, u32 } from './framing';
import { decodeBase64Strict } from './encoding';
import { CryptoError } from './errors';
import { POLY1305_TAG_BYTES, XCHACHA_KEY_BYTES, XCHACHA_NONCE_BYTES, xchachaDecrypt, xchachaEncrypt } from './xchacha';

/**
 * Sealed body wire format, version 2 (libs/crypto/README.md, "Sealed body", states it byte by byte):
 * - `encrypted`: base64 of nonce(24) ‖ XChaCha20-Poly1305 ciphertext ‖ tag(16) of the UTF-8 body, with the
 *   associated data {@link sealBinding} of the message (kind, task id, from, the full to list).
 * - `encryption_keys[i]`: base64 of RSA-OAEP(SHA-256) of the 32-byte body key under recipient i's public key,
 *   with an OAEP label that names this message and the position i, so a wrapped key moved to another
 *   position or message does not unwrap.
 * - `key_commitment`: base64 of HMAC-SHA-256 under the body key of the nonce and the associated data; every
 *   recipient checks it after unwrapping, so all recipients of one message hold the same key and read the
 *   same plaintext.
 */
export interface SealedBody {
  /** base64(nonce24 ‖ ciphertext ‖ tag16) */
  encrypted: string;
  /** base64 RSA-OAEP ciphertexts, aligned with the recipient list */
  encryption_keys: string[];
  /** base64(HMAC-SHA-256(key, commitment input)), 32 bytes */
  key_commitment: string;
}

/** The version of the message format this module seals and opens (the signed message's `v`). */
export const SEAL_FORMAT_VERSION = 2;

/** What a body is bound to: the message it travels in. `taskId` is the task's id, for a result too. */
export interface SealBinding {
  kind: 'task' | 'result';
  taskId: string;
  from: string;
  to: readonly string[];
}

const AD_LABEL = 'beamline sealed body v2';
const WRAP_LABEL = 'beamline wrapped key v2';
const COMMIT_LABEL = 'beamline key commitment v2';
const COMMITMENT_BYTES = 32;

/** The associated data of a sealed body: lp(label) ‖ lp(kind) ‖ lp(taskId) ‖ lp(from) ‖ u32be(n) ‖ lp(to[0]) ‖ … */
export function sealBinding(binding: SealBinding): Buffer {
  const { kind, taskId, from, to } = binding;
  return Buffer.concat([lp(AD_LABEL), lp(kind), lp(taskId), lp(from), u32(to.length), ...to.map(lp)]);
}

/** OAEP label of the wrapped key at `index`: lp(label) ‖ SHA-256(AD) ‖ u32be(index). */
function wrapLabel(adHash: Buffer, index: number): Buffer {
  return Buffer.concat([lp(WRAP_LABEL), adHash, u32(index)]);
}

/** HMAC-SHA-256(key, lp(label) ‖ nonce ‖ AD). */
function keyCommitment(key: Buffer, nonce: Uint8Array, ad: Buffer): Buffer {
  return createHmac('sha256', key).update(lp(COMMIT_LABEL)).update(nonce).update(ad).digest();
}

function checkBinding(binding: SealBinding, recipients: number): void {
  if (binding.to.length !== recipients) throw new CryptoError('malformed', `${recipients} recipient keys for ${binding.to.length} recipients`);
}

/** A body sealed as raw bytes, for the blob store: `blob` is nonce(24) ‖ ciphertext ‖ tag(16), not base64. */
export interface SealedBlob {
  blob: Buffer;
  encryption_keys: string[];
  key_commitment: string;
}

/**
 * Seals a UTF-8 body for the recipients of one message (`recipientKeys[i]` is the proxy key of `binding.to[i]`)
 * with a fresh random key and nonce, bound to that message and each recipient's position.
 */
export function sealBody(plaintext: string, recipientKeys: KeyObject[], binding: SealBinding): SealedBody {
  const { blob, ...keys } = sealBlob(Buffer.from(plaintext, 'utf8'), recipientKeys, binding);
  return { encrypted: blob.toString('base64'), ...keys };
}

/**
 * The same sealing with the ciphertext as bytes: what a proxy stores in the broker's blob store when a body is
 * too big to travel inside its message (the message then carries the blob's SHA-256 and size, signed).
 */
export function sealBlob(plaintext: Uint8Array, recipientKeys: KeyObject[], binding: SealBinding): SealedBlob {
  checkBinding(binding, recipientKeys.length);
  for (const pub of recipientKeys) if (pub.asymmetricKeyType !== 'rsa') throw new CryptoError('malformed', 'recipient key is not an RSA key');
  const ad = sealBinding(binding);
  const adHash = createHash('sha256').update(ad).digest();
  const key = randomBytes(XCHACHA_KEY_BYTES);
  const nonce = randomBytes(XCHACHA_NONCE_BYTES);
  try {
    const sealed = xchachaEncrypt(key, nonce, plaintext, ad);
    return {
      blob: Buffer.concat([nonce, sealed]),
      encryption_keys: recipientKeys.map((pub, i) => publicEncrypt(oaep(pub, wrapLabel(adHash, i)), key).toString('base64')),
      key_commitment: keyCommitment(key, nonce, ad).toString('base64'),
    };
  } finally {
    key.fill(0);
  }
}

/**
 * Opens the body of a message for the recipient at `keyIndex` of `binding.to`, with that recipient's proxy key.
 * The key is unwrapped with the label of this message and position, checked against the key commitment, and only
 * then used. Every failure (wrong key, index or message, any tampering, a key that does not match the commitment,
 * malformed fields) throws the same CryptoError('decrypt_failed'), so callers cannot become a decryption oracle.
 */
export function openBody(sealed: SealedBody, keyIndex: number, privateKey: KeyObject, binding: SealBinding): string {
  const blob = decodeBase64Strict(sealed?.encrypted);
  if (!blob) throw new CryptoError('decrypt_failed', 'cannot open sealed body: bad ciphertext');
  return openBlob({ ...sealed, blob }, keyIndex, privateKey, binding);
}

/** {@link openBody} for a body sealed by {@link sealBlob}: the same checks, the same single error. */
export function openBlob(sealed: SealedBlob, keyIndex: number, privateKey: KeyObject, binding: SealBinding): string {
  const fail = (why: string): never => {
    throw new CryptoError('decrypt_failed', `cannot open sealed body: ${why}`);
  };
  const keys = sealed?.encryption_keys;
  if (!Array.isArray(keys) || keys.length !== binding.to.length) return fail('encryption_keys do not match the recipients');
  if (!Number.isInteger(keyIndex) || keyIndex < 0 || keyIndex >= keys.length) return fail('bad key index');
  const blob = sealed.blob;
  if (!Buffer.isBuffer(blob) || blob.length < XCHACHA_NONCE_BYTES + POLY1305_TAG_BYTES) return fail('bad ciphertext');
  const wrappedKey = decodeBase64Strict(keys[keyIndex]);
  const commitment = decodeBase64Strict(sealed.key_commitment);
  if (!wrappedKey || !commitment || commitment.length !== COMMITMENT_BYTES) return fail('bad wrapped key or key commitment');
  const ad = sealBinding(binding);
  let key: Buffer;
  try {
    key = privateDecrypt(oaep(privateKey, wrapLabel(createHash('sha256').update(ad).digest(), keyIndex)), wrappedKey);
  } catch {
    return fail('key unwrap failed');
  }
  try {
    if (key.length !== XCHACHA_KEY_BYTES) return fail('key unwrap failed');
    const nonce = blob.subarray(0, XCHACHA_NONCE_BYTES);
    // Before the key is used: a key other than the one the sender committed to is refused, whatever it decrypts.
    if (!timingSafeEqual(keyCommitment(key, nonce, ad), commitment)) return fail('key commitment mismatch');
    let plaintext: Buffer;
    try {
      plaintext = xchachaDecrypt(key, nonce, blob.subarray(XCHACHA_NONCE_BYTES), ad);
    } catch {
      return fail('authentication failed');
    }
    return plaintext.toString('utf8');
  } finally {
    key.fill(0);
  }
}
