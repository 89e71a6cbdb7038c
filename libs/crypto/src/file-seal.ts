/**
 * Files sealed in chunks, so no process ever holds more than a chunk of one (libs/crypto/README.md, "Sealed
 * file", states it byte by byte). The STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015): one
 * random key per file, and ChaCha20-Poly1305 per chunk of FILE_CHUNK_BYTES (libs/domain files.ts) with the nonce
 * u8(last) ‖ 0x000000 ‖ u64be(index) and the associated data lp(label) ‖ lp(fileId). A chunk moved to
 * another index, another file, or made the last one does not open, so a reader that knows the chunk count
 * (from the signed offer) refuses a reordered, dropped, truncated or extended file before its end.
 *
 * The file key is wrapped for each recipient as a body key is (RSA-OAEP, with a label that names the file and
 * the position) and committed to (HMAC-SHA-256 under the key), so every recipient reads the same file.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, privateDecrypt, publicEncrypt, randomBytes, timingSafeEqual, type KeyObject } from 'crypto';
import { decodeBase64Strict } from './encoding';
import { CryptoError } from './errors';
import { lp, oaep, u32 } from './framing';
import { FILE_CHUNK_BYTES, SEALED_FILE_CHUNK_BYTES } from '@beamline/domain';
import { POLY1305_TAG_BYTES } from './xchacha';

const FILE_KEY_BYTES = 32;
const CHUNK_LABEL = 'beamline file chunk v1';
const BINDING_LABEL = 'beamline file v1';
const WRAP_LABEL = 'beamline wrapped file key v1';
const COMMIT_LABEL = 'beamline file key commitment v1';

/** What a file's key is bound to: the file and its parties, in order. */
export interface FileBinding {
  fileId: string;
  from: string;
  to: readonly string[];
}

/** A file key as it travels in the signed offer: wrapped for each recipient (aligned with `to`), and committed to. */
export interface SealedFileKey {
  encryption_keys: string[];
  key_commitment: string;
}

export function newFileKey(): Buffer {
  return randomBytes(FILE_KEY_BYTES);
}

function fileAd(binding: FileBinding): Buffer {
  return Buffer.concat([lp(BINDING_LABEL), lp(binding.fileId), lp(binding.from), u32(binding.to.length), ...binding.to.map(lp)]);
}

function commitment(key: Buffer, ad: Buffer): Buffer {
  return createHmac('sha256', key).update(lp(COMMIT_LABEL)).update(ad).digest();
}

function wrapLabel(ad: Buffer, index: number): Buffer {
  return Buffer.concat([lp(WRAP_LABEL), createHash('sha256').update(ad).digest(), u32(index)]);
}

/** Wraps `key` for the recipients of `binding` (`recipientKeys[i]` is the proxy key of `binding.to[i]`). */
export function wrapFileKey(key: Buffer, recipientKeys: readonly KeyObject[], binding: FileBinding): SealedFileKey {
  if (recipientKeys.length !== binding.to.length)
    throw new CryptoError('malformed', `${recipientKeys.length} recipient keys for ${binding.to.length} recipients`);
  const ad = fileAd(binding);
  return {
    encryption_keys: recipientKeys.map((pub, i) => publicEncrypt(oaep(pub, wrapLabel(ad, i)), key).toString('base64')),
    key_commitment: commitment(key, ad).toString('base64'),
  };
}

/** The file key for the recipient at `index`; any failure is the one CryptoError('decrypt_failed'). */
export function unwrapFileKey(sealed: SealedFileKey, index: number, privateKey: KeyObject, binding: FileBinding): Buffer {
  const fail = (): never => {
    throw new CryptoError('decrypt_failed', 'cannot open the file key');
  };
  const wrapped = decodeBase64Strict(sealed?.encryption_keys?.[index]);
  const committed = decodeBase64Strict(sealed?.key_commitment);
  if (!wrapped || !committed || sealed.encryption_keys.length !== binding.to.length) return fail();
  const ad = fileAd(binding);
  let key: Buffer;
  try {
    key = privateDecrypt(oaep(privateKey, wrapLabel(ad, index)), wrapped);
  } catch {
    return fail();
  }
  const expected = commitment(key, ad);
  if (key.length !== FILE_KEY_BYTES || committed.length !== expected.length || !timingSafeEqual(expected, committed)) return fail();
  return key;
}

function chunkNonce(index: number, last: boolean): Buffer {
  const nonce = Buffer.alloc(12);
  nonce[0] = last ? 1 : 0;
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

function chunkAd(fileId: string): Buffer {
  return Buffer.concat([lp(CHUNK_LABEL), lp(fileId)]);
}

/** Seals chunk `index` of file `fileId` (at most FILE_CHUNK_BYTES; only the last may be shorter): ciphertext ‖ tag. */
export function sealFileChunk(key: Buffer, fileId: string, index: number, plaintext: Uint8Array, last: boolean): Buffer {
  const cipher = createCipheriv('chacha20-poly1305', key, chunkNonce(index, last), { authTagLength: POLY1305_TAG_BYTES });
  cipher.setAAD(chunkAd(fileId), { plaintextLength: plaintext.length });
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Opens sealed chunk `index`; CryptoError('decrypt_failed') unless it is exactly that chunk (and, with `last`, the last one). */
export function openFileChunk(key: Buffer, fileId: string, index: number, sealed: Uint8Array, last: boolean): Buffer {
  if (sealed.length < POLY1305_TAG_BYTES) throw new CryptoError('decrypt_failed', `file chunk ${index}: too short`);
  const decipher = createDecipheriv('chacha20-poly1305', key, chunkNonce(index, last), { authTagLength: POLY1305_TAG_BYTES });
  decipher.setAAD(chunkAd(fileId), { plaintextLength: sealed.length - POLY1305_TAG_BYTES });
  decipher.setAuthTag(sealed.subarray(sealed.length - POLY1305_TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - POLY1305_TAG_BYTES)), decipher.final()]);
  } catch {
    throw new CryptoError('decrypt_failed', `file chunk ${index}${last ? ' (last)' : ''}: authentication failed`);
  }
}

/** Cuts a byte stream into pieces of exactly `size` bytes (the last may be shorter or, for an empty stream, empty). */
export async function* fixedPieces(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let yielded = false;
  for await (const part of source) {
    let data = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    while (pendingBytes + data.length >= size) {
      const take = size - pendingBytes;
      yield Buffer.concat([...pending, data.subarray(0, take)]);
      yielded = true;
      data = data.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (data.length > 0) {
      pending.push(Buffer.from(data));
      pendingBytes += data.length;
    }
  }
  if (pendingBytes > 0 || !yielded) yield Buffer.concat(pending);
}

/**
 * Seals a file as it streams: chunk by chunk, holding one chunk and the next (to know which is last). The
 * plaintext's length need not be known in advance.
 */
export async function* sealFileStream(source: AsyncIterable<Uint8Array>, key: Buffer, fileId: string): AsyncGenerator<Buffer> {
  let index = 0;
  let held: Buffer | undefined;
  for await (const piece of fixedPieces(source, FILE_CHUNK_BYTES)) {
    if (held !== undefined) yield sealFileChunk(key, fileId, index++, held, false);
    held = piece;
  }
  yield sealFileChunk(key, fileId, index, held ?? Buffer.alloc(0), true);
}

/**
 * Opens a sealed file's chunks from `firstIndex` on, as they stream in (`sealed` is the sealed bytes from the
 * start of that chunk). `chunkCount` comes from the signed offer: a stream that ends early, runs on, or holds a
 * chunk that is not the one at its place throws before anything after it is produced.
 */
export async function* openFileStream(
  sealed: AsyncIterable<Uint8Array>,
  key: Buffer,
  fileId: string,
  chunkCount: number,
  firstIndex = 0,
): AsyncGenerator<Buffer> {
  let index = firstIndex;
  for await (const chunk of fixedPieces(sealed, SEALED_FILE_CHUNK_BYTES)) {
    if (index >= chunkCount) throw new CryptoError('decrypt_failed', `file: more than its ${chunkCount} chunks`);
    yield openFileChunk(key, fileId, index, chunk, index === chunkCount - 1);
    index++;
  }
  if (index < chunkCount) throw new CryptoError('decrypt_failed', `file: ${index} of ${chunkCount} chunks arrived (truncated)`);
}
