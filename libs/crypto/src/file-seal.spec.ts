import { randomBytes } from 'crypto';
import { CryptoError } from './errors';
import { FILE_CHUNK_BYTES, fileChunkCount, SEALED_FILE_CHUNK_BYTES, sealedFileSize } from '@beamline/domain';
import {
  fixedPieces,
  newFileKey,
  openFileChunk,
  openFileStream,
  sealFileChunk,
  sealFileStream,
  unwrapFileKey,
  wrapFileKey,
  type FileBinding,
} from './file-seal';
import { testKeys } from './test-keys';

const FILE = 'f1e2d3c4-0000-4000-8000-000000000001';

async function* inPieces(bytes: Buffer, sizes: number[] = [7_000, 300_001, 1]): AsyncGenerator<Buffer> {
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

async function sealedChunks(plain: Buffer, key: Buffer, fileId = FILE): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of sealFileStream(inPieces(plain), key, fileId)) chunks.push(chunk);
  return chunks;
}

async function expectRefused(work: Promise<unknown>): Promise<void> {
  await expect(work).rejects.toBeInstanceOf(CryptoError);
  await expect(work).rejects.toMatchObject({ code: 'decrypt_failed' });
}

describe('sealFileStream / openFileStream', () => {
  const key = newFileKey();

  it.each([0, 1, FILE_CHUNK_BYTES - 1, FILE_CHUNK_BYTES, FILE_CHUNK_BYTES + 1, 3 * FILE_CHUNK_BYTES + 5])(
    'round-trips %i bytes in chunks of the announced count and sealed size',
    async (size) => {
      const plain = randomBytes(size);
      const chunks = await sealedChunks(plain, key);
      expect(chunks).toHaveLength(fileChunkCount(size));
      expect(Buffer.concat(chunks).length).toBe(sealedFileSize(size));
      expect((await collect(openFileStream(inPieces(Buffer.concat(chunks), [65_536, 3]), key, FILE, chunks.length))).equals(plain)).toBe(true);
    },
  );

  it('resumes at any chunk: the rest opens from its index on', async () => {
    const plain = randomBytes(3 * FILE_CHUNK_BYTES + 10);
    const sealed = Buffer.concat(await sealedChunks(plain, key));
    const rest = openFileStream(inPieces(sealed.subarray(2 * SEALED_FILE_CHUNK_BYTES)), key, FILE, 4, 2);
    expect((await collect(rest)).equals(plain.subarray(2 * FILE_CHUNK_BYTES))).toBe(true);
  });

  it('refuses a swapped, a dropped, a missing last and an extra chunk, and a flipped bit', async () => {
    const chunks = await sealedChunks(randomBytes(3 * FILE_CHUNK_BYTES + 10), key);
    const open = (parts: Buffer[], count = 4) => collect(openFileStream(inPieces(Buffer.concat(parts)), key, FILE, count));
    await expectRefused(open([chunks[1], chunks[0], chunks[2], chunks[3]]));
    await expectRefused(open([chunks[0], chunks[2], chunks[3]]));
    await expectRefused(open(chunks.slice(0, 3)));
    await expectRefused(open(chunks.slice(0, 3), 3)); // the third chunk is not sealed as the last one
    await expectRefused(open([...chunks, chunks[3]], 5));
    await expectRefused(open([...chunks, chunks[3]]));
    const flipped = Buffer.from(chunks[2]);
    flipped[100] ^= 1;
    await expectRefused(open([chunks[0], chunks[1], flipped, chunks[3]]));
  });

  it('yields nothing after a bad chunk: the chunks before it, then the error', async () => {
    const chunks = await sealedChunks(randomBytes(3 * FILE_CHUNK_BYTES), key);
    const got: Buffer[] = [];
    await expectRefused(
      (async () => {
        for await (const part of openFileStream(inPieces(Buffer.concat([chunks[0], chunks[2]])), key, FILE, 3)) got.push(part);
      })(),
    );
    expect(got).toHaveLength(1);
  });

  it('refuses a chunk of another file or under another key', () => {
    const chunk = sealFileChunk(key, FILE, 0, Buffer.from('data'), true);
    expect(openFileChunk(key, FILE, 0, chunk, true).toString()).toBe('data');
    expect(() => openFileChunk(key, 'another file', 0, chunk, true)).toThrow(CryptoError);
    expect(() => openFileChunk(newFileKey(), FILE, 0, chunk, true)).toThrow(CryptoError);
  });
});

describe('fixedPieces', () => {
  const pieceSizes = async (input: Buffer, size: number): Promise<number[]> => {
    const sizes: number[] = [];
    for await (const piece of fixedPieces(inPieces(input, [3, 10]), size)) sizes.push(piece.length);
    return sizes;
  };

  it('cuts any input into pieces of exactly the size, the last shorter, an empty input into one empty piece', async () => {
    expect(await pieceSizes(Buffer.alloc(25), 10)).toEqual([10, 10, 5]);
    expect(await pieceSizes(Buffer.alloc(20), 10)).toEqual([10, 10]);
    expect(await pieceSizes(Buffer.alloc(0), 10)).toEqual([0]);
  });
});

describe('wrapFileKey / unwrapFileKey', () => {
  const [a, b] = testKeys(2);
  const binding: FileBinding = { fileId: FILE, from: 'app1.proxy1.broker', to: ['app2.proxy2.broker', 'app3.proxy3.broker'] };

  it('gives every recipient the same key, and only at its own position', () => {
    const key = newFileKey();
    const sealed = wrapFileKey(key, [a.publicKey, b.publicKey], binding);
    expect(unwrapFileKey(sealed, 0, a.privateKey, binding).equals(key)).toBe(true);
    expect(unwrapFileKey(sealed, 1, b.privateKey, binding).equals(key)).toBe(true);
    expect(() => unwrapFileKey(sealed, 1, a.privateKey, binding)).toThrow(CryptoError);
    expect(() => unwrapFileKey(sealed, 0, a.privateKey, { ...binding, fileId: 'other' })).toThrow(CryptoError);
  });

  it('refuses a wrapped key that does not match the commitment', () => {
    const sealed = wrapFileKey(newFileKey(), [a.publicKey, b.publicKey], binding);
    const other = wrapFileKey(newFileKey(), [a.publicKey, b.publicKey], binding);
    expect(() => unwrapFileKey({ ...sealed, encryption_keys: [other.encryption_keys[0], sealed.encryption_keys[1]] }, 0, a.privateKey, binding)).toThrow(
      CryptoError,
    );
  });
});
