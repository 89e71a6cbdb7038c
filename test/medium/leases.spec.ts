/**
 * Leader election over a real NATS KV bucket: one leader at a time; a leader that stops hands over at once;
 * one that dies is replaced once its key ages out; one that cannot renew steps down.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, DEFAULT_STORAGE_SETTINGS, leaseBucket, Leases, type LeaderLease } from '@beamline/nats';

const TTL_MS = 1_500;
const RENEW_MS = 250;
const bucket = leaseBucket(DEFAULT_STORAGE_SETTINGS, TTL_MS);

let server: NatsServerHandle;
const connections: NatsConnection[] = [];
const leases: LeaderLease[] = [];
let leaseNo = 0;

beforeAll(async () => {
  server = await startNatsServer();
}, 30_000);

afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.stop()));
  await Promise.all(connections.splice(0).map((nc) => (nc.isClosed() ? undefined : nc.close())));
});

afterAll(async () => {
  await server?.stop();
});

/** A contender on its own connection, as each broker-store replica is. */
async function contender(name: string): Promise<{ lease: LeaderLease; nc: NatsConnection }> {
  const nc = await connectNats(server.url, `lease-spec-${leaseNo++}`);
  connections.push(nc);
  const lease = new Leases(nc).lease(name, { bucket, renewMs: RENEW_MS });
  leases.push(lease);
  lease.start();
  return { lease, nc };
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('elects exactly one of several contenders, and keeps it', async () => {
  const all = await Promise.all(['a', 'b', 'c'].map(() => contender('one-of-three')));
  await until(() => all.some((c) => c.lease.isLeader), 5_000);
  for (let i = 0; i < 10; i++) {
    expect(all.filter((c) => c.lease.isLeader)).toHaveLength(1);
    await sleep(RENEW_MS);
  }
});

it('hands over at once when the leader stops', async () => {
  const first = await contender('handover');
  await until(() => first.lease.isLeader, 5_000);
  const second = await contender('handover');
  await sleep(3 * RENEW_MS);
  expect(second.lease.isLeader).toBe(false);

  await first.lease.stop();
  // Well before the key could have aged out: the stop deleted it, and the next renew round takes it.
  expect(await until(() => second.lease.isLeader, TTL_MS)).toBeLessThan(TTL_MS);
});

it('replaces a leader that died once its key ages out', async () => {
  const first = await contender('death');
  await until(() => first.lease.isLeader, 5_000);
  const second = await contender('death');
  const died = Date.now();
  await first.nc.close(); // no delete, no more renewals: what a SIGKILL leaves behind

  await until(() => second.lease.isLeader, TTL_MS + 5_000);
  // Not before the lease ran out: two leaders never overlap.
  expect(Date.now() - died).toBeGreaterThanOrEqual(TTL_MS - RENEW_MS);
});

it('steps down when it cannot renew', async () => {
  const only = await contender('lost-nats');
  await until(() => only.lease.isLeader, 5_000);
  await only.nc.close();
  expect(await until(() => !only.lease.isLeader, 5 * RENEW_MS)).toBeLessThan(5 * RENEW_MS);
});
