/**
 * broker-store's memory does not grow with body size: its views keep where each message is, not the message.
 * 200 live tasks of 16 MB bodies (events of ~28.5 MB: the sealed body is base64 inside a base64url JWS) are
 * 5.7 GB of log; a store with a 512 MB heap keeps them and answers listings and lookups. (Before, it kept
 * every sealed body and died of "JavaScript heap out of memory" after 19 such tasks.) broker-api streams the
 * 5.7 GB listing with its memory flat. Replaying such a log into a small heap is test/large-log.spec.ts.
 */
import { randomUUID } from 'node:crypto';
import type { TaskCreated } from '@beamline/domain';
import type { NatsConnection } from '@nats-io/nats-core';
import {
  connectNats,
  DEFAULT_LEASE_RENEW_MS,
  DEFAULT_LEASE_TTL_MS,
  EventLog,
  EXPIRY_LEADER_LEASE,
  LeaderLease,
  leaseBucket,
  readStorageSettings,
  subjects,
} from '@beamline/nats';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, signed } from './support/proxy-signer';
import { rssMb, withPeakRss } from './support/processes';

const TASKS = 200;
/** The size of the signed message of a task with a 16 MB body. */
const MESSAGE_CHARS = Math.round(16_000_000 * 1.78);
const STORE_HEAP_MB = 512;

let t: TestNetwork;
let leaseNc: NatsConnection;
let lease: LeaderLease;
const report: string[] = [];

beforeAll(async () => {
  t = await startTestNetwork({
    extraEnv: { 'broker-store': { NODE_OPTIONS: `--max-old-space-size=${STORE_HEAP_MB}` } },
    storageEnv: { EVENTS_MAX_BYTES: '8GiB', AUDIT_MAX_BYTES: '256MiB' },
  });
  // Copying 5.7 GB to BEAM_AUDIT is not what this test is about and would triple its disk traffic: the test
  // holds the leader lease (the store hands it over when stopped, and finds it taken when it starts again),
  // so no store replica copies. Nothing here expires within the test.
  const store = t.net.services.get('broker-store')!;
  await store.stop();
  leaseNc = await connectNats(t.net.natsUrl, 'large-bodies-lease');
  lease = new LeaderLease(leaseNc, EXPIRY_LEADER_LEASE, {
    bucket: leaseBucket(readStorageSettings({}), DEFAULT_LEASE_TTL_MS),
    renewMs: DEFAULT_LEASE_RENEW_MS,
  });
  lease.start();
  for (let i = 0; i < 50 && !lease.isLeader; i++) await new Promise((r) => setTimeout(r, 100));
  if (!lease.isLeader) throw new Error('the test could not take the leader lease');
  await store.restart();
}, 120_000);

afterAll(async () => {
  if (report.length > 0) console.log(report.join('\n'));
  await lease?.stop();
  await leaseNc?.close();
  await t?.net.stop();
});

/** A broker request as proxy1 (with its key), answered as a stream: counts lines and bytes, keeps nothing. */
async function brokerGet(pathAndQuery: string): Promise<{ status: number; lines: number; bytes: number }> {
  const req = await signed(proxySigner(t.net, 0), { method: 'GET', pathAndQuery });
  const res = await fetch(t.net.brokerUrl + pathAndQuery, { headers: { authorization: req.authorization } });
  let lines = 0;
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
  }
  return { status: res.status, lines, bytes };
}

/**
 * Appends as broker-api does: a publish whose ack does not come within EventLog's 4 s (28 MB events on a busy
 * disk) is sent again, and the Nats-Msg-Id makes the second one a duplicate of the first, not a second event.
 * Ten tries: with four 28 MB appends in flight, a slow disk (a clean-clone CI run) once needed more than five.
 */
async function appendRetried(log: EventLog, subject: string, event: TaskCreated, msgId: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await log.append(subject, event, { msgId })).seq;
    } catch (err) {
      if (attempt >= 10 || (err as Error).name !== 'TimeoutError') throw err;
    }
  }
}

async function storeAppliedSeq(): Promise<number | undefined> {
  const health = (await (await fetch(`${t.net.brokerUrl}/v1/health`)).json()) as { store: { applied_seq?: number } };
  return health.store.applied_seq;
}

it(`keeps ${TASKS} live tasks of 16 MB with a ${STORE_HEAP_MB} MB heap, and lists and fetches them`, async () => {
  const store = t.net.services.get('broker-store')!;
  const storePid = store.pid;
  const nc = await connectNats(t.net.natsUrl, 'large-bodies');
  const log = new EventLog(nc);
  const ids: string[] = [];
  let lastSeq = 0;
  const filler = 'A'.repeat(MESSAGE_CHARS);
  const appended = await withPeakRss(t.net, async () => {
    const started = Date.now();
    let next = 0;
    // A few appends in flight keep the disk busy; their order does not matter here.
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let i = next++; i < TASKS; i = next++) {
          const taskId = randomUUID();
          ids[i] = taskId;
          const now = Date.now();
          // Only the stored size matters to the store; the broker never reads the message on this path.
          const event: TaskCreated = {
            type: 'TaskCreated',
            v: 1,
            taskId,
            from: APP1,
            to: [APP2],
            message: `${i}.${filler}`,
            digest: 'd',
            receivedAt: now,
            expiresAt: now + 3_600_000,
          };
          lastSeq = Math.max(lastSeq, await appendRetried(log, subjects.taskCreated(taskId), event, taskId));
        }
      }),
    );
    return Date.now() - started;
  });
  await nc.close();
  report.push(`appended ${TASKS} events of ${(MESSAGE_CHARS / 1e6).toFixed(1)} MB in ${appended.value} ms; peak RSS MB ${JSON.stringify(appended.peaks)}`);

  // The store applied all of them and is still the same process.
  for (let i = 0; i < 100 && (await storeAppliedSeq()) !== lastSeq; i++) await new Promise((r) => setTimeout(r, 200));
  if ((await storeAppliedSeq()) !== lastSeq) throw new Error(`broker-store did not apply #${lastSeq}:\n${dumpLogs(t.net)}`);
  expect(store.pid).toBe(storePid);

  const listing = await withPeakRss(t.net, async () => {
    const started = Date.now();
    const res = await brokerGet(`/v1/tasks?from=${APP1}&beam_app=${APP1}`);
    return { ...res, ms: Date.now() - started };
  });
  expect(listing.value.status).toBe(200);
  expect(listing.value.lines).toBe(TASKS + 1); // and the end line
  expect(listing.value.bytes).toBeGreaterThan(TASKS * MESSAGE_CHARS);
  report.push(`listed ${(listing.value.bytes / 1e9).toFixed(2)} GB in ${listing.value.ms} ms; peak RSS MB ${JSON.stringify(listing.peaks)}`);
  expect(listing.peaks['broker-api']).toBeLessThan(600);

  for (const id of [ids[0], ids[TASKS - 1]]) {
    const one = await brokerGet(`/v1/tasks/${id}?beam_app=${APP1}`);
    expect(one.status).toBe(200);
    expect(one.bytes).toBeGreaterThan(MESSAGE_CHARS);
  }
  expect(store.pid).toBe(storePid);
  expect(rssMb(store.pid)).toBeLessThan(STORE_HEAP_MB + 300);
}, 600_000);
