/**
 * Replay protection against a real NATS KV bucket: a nonce is accepted once, by any replica, for as long as the
 * window lasts.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, DEFAULT_STORAGE_SETTINGS, nonceBucket, NonceStore } from '@beamline/nats';

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
