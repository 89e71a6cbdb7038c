/**
 * Replay protection against a real NATS KV bucket: a nonce is accepted once, by any replica, for as long as the
 * window lasts; a full bucket refuses new nonces rather than forget old ones.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { StorageFull } from '@beamline/domain';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, DEFAULT_STORAGE_SETTINGS, ensureStorage, nonceBucket, NonceStore } from '@beamline/nats';

const WINDOW_MS = 1_500;
const spec = nonceBucket(DEFAULT_STORAGE_SETTINGS, WINDOW_MS);

let server: NatsServerHandle;
let replicaA: NatsConnection;
let replicaB: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer();
  replicaA = await connectNats(server.url, 'nonce-spec-a');
  replicaB = await connectNats(server.url, 'nonce-spec-b');
}, 30_000);

afterAll(async () => {
  await replicaA?.close();
  await replicaB?.close();
  await server?.stop();
});

it('accepts a nonce once and refuses it again, on the same replica and on another', async () => {
  const a = new NonceStore(replicaA, spec);
  const b = new NonceStore(replicaB, spec);
  const nonce = randomUUID();
  expect(await a.claim(nonce)).toBe(true);
  expect(await a.claim(nonce)).toBe(false);
  expect(await b.claim(nonce)).toBe(false);
  expect(await b.claim(randomUUID())).toBe(true);
});

it('lets exactly one of many simultaneous claims of a nonce win', async () => {
  const stores = [new NonceStore(replicaA, spec), new NonceStore(replicaB, spec)];
  const nonce = randomUUID();
  const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2].claim(nonce)));
  expect(outcomes.filter(Boolean)).toHaveLength(1);
});

it('forgets a nonce once the window has passed', async () => {
  const store = new NonceStore(replicaA, spec);
  const nonce = randomUUID();
  expect(await store.claim(nonce)).toBe(true);
  await new Promise((r) => setTimeout(r, WINDOW_MS + 1_000));
  expect(await store.claim(nonce)).toBe(true);
});

it.each([4_096, 5_000, 6_144, 8_192])(
  'refuses new nonces once a bucket of %i bytes is full, instead of forgetting old ones (a forgotten nonce could be replayed)',
  async (maxBytes) => {
    // nats-server 2.9 checks a discard-new byte limit against a smaller size than it stores, so a bucket right at
    // its limit accepted each new key and dropped the oldest instead: a nonce inside the window was forgotten.
    const limits = { ...DEFAULT_STORAGE_SETTINGS.limits, noncesMaxBytes: maxBytes };
    const tiny = { ...nonceBucket({ ...DEFAULT_STORAGE_SETTINGS, limits }, 60_000), bucket: `beam-nonces-tiny-${maxBytes}` };
    await ensureStorage(replicaA, DEFAULT_STORAGE_SETTINGS, [tiny]);
    const store = new NonceStore(replicaA, tiny);
    const first = randomUUID();
    expect(await store.claim(first)).toBe(true);
    let refusal: unknown;
    for (let i = 0; i < 500 && refusal === undefined; i++) await store.claim(randomUUID()).catch((err: unknown) => (refusal = err));
    expect(refusal).toBeInstanceOf(StorageFull);
    expect(await store.claim(first)).toBe(false);
  },
);
