/**
 * The blob store against a real nats-server: a sealed body streams in only when it is exactly the bytes its
 * reference announces, is read back intact, stays in its uploader's namespace, and a full store refuses.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { createHash, randomBytes } from 'node:crypto';
import { InvalidInput, PayloadTooLarge, StorageFull } from '@beamline/domain';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { BlobStore, connectNats, DEFAULT_STORAGE_SETTINGS, ensureStorage } from '@beamline/nats';

const MiB = 2 ** 20;
let server: NatsServerHandle;
let nc: NatsConnection;
let blobs: BlobStore;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats(server.url, 'blob-spec');
  await ensureStorage(nc, { ...DEFAULT_STORAGE_SETTINGS, limits: { ...DEFAULT_STORAGE_SETTINGS.limits, blobsMaxBytes: 160 * MiB } }, []);
  blobs = new BlobStore(nc, 'js'); // jest's VM cannot load the native hash the way the NATS client does
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const refOf = (bytes: Buffer) => ({ sha256: createHash('sha256').update(bytes).digest('base64url'), size: bytes.length });

async function* pieces(bytes: Buffer, size = 100_000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(data: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of data) parts.push(part);
  return Buffer.concat(parts);
}

it('stores a blob streamed in pieces and reads it back intact, with its readers', async () => {
  const bytes = randomBytes(3 * MiB + 17);
  await blobs.put('proxy1.broker', refOf(bytes), ['proxy2.broker', 'proxy3.broker'], pieces(bytes));
  expect(await blobs.info('proxy1.broker', refOf(bytes).sha256)).toEqual({
    ...refOf(bytes),
    uploader: 'proxy1.broker',
    readers: ['proxy2.broker', 'proxy3.broker'],
  });
  const read = await blobs.read('proxy1.broker', refOf(bytes).sha256);
  expect((await readAll(read!.data)).equals(bytes)).toBe(true);
});

it("keeps each proxy's blobs apart: the same digest under another uploader is not there", async () => {
  const bytes = randomBytes(1000);
  await blobs.put('proxy1.broker', refOf(bytes), [], pieces(bytes));
  expect(await blobs.info('proxy2.broker', refOf(bytes).sha256)).toBeUndefined();
  expect(await blobs.read('proxy2.broker', refOf(bytes).sha256)).toBeUndefined();
});

it('refuses a body whose digest, or whose length, is not the announced one, and keeps nothing of it', async () => {
  const bytes = randomBytes(2 * MiB);
  const ref = refOf(bytes);
  const other = Buffer.from(bytes);
  other[5] ^= 1;
  await expect(blobs.put('proxy1.broker', ref, [], pieces(other))).rejects.toThrow(InvalidInput);
  await expect(blobs.put('proxy1.broker', ref, [], pieces(bytes.subarray(0, MiB)))).rejects.toThrow(InvalidInput);
  await expect(blobs.put('proxy1.broker', { ...ref, size: MiB }, [], pieces(bytes))).rejects.toThrow(PayloadTooLarge);
  expect(await blobs.info('proxy1.broker', ref.sha256)).toBeUndefined();
});

it('deletes a blob', async () => {
  const bytes = randomBytes(600_000);
  await blobs.put('proxy1.broker', refOf(bytes), [], pieces(bytes));
  await blobs.delete('proxy1.broker', refOf(bytes).sha256);
  expect(await blobs.info('proxy1.broker', refOf(bytes).sha256)).toBeUndefined();
  await blobs.delete('proxy1.broker', refOf(bytes).sha256);
});

it('refuses an upload with StorageFull once the store is full', async () => {
  const bytes = randomBytes(40 * MiB);
  const puts = [1, 2, 3, 4, 5].map(async (i) => {
    const copy = Buffer.from(bytes);
    copy[0] = i;
    return blobs.put('proxy9.broker', refOf(copy), [], pieces(copy, MiB));
  });
  const outcomes = await Promise.allSettled(puts);
  const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason);
  expect(refused.length).toBeGreaterThan(0);
  for (const err of refused) expect(err).toBeInstanceOf(StorageFull);
}, 60_000);
