/**
 * One app fills a capped JetStream with large tasks, end to end. Writes are then refused with 507
 * storage_full naming BEAM_EVENTS, while everything else keeps working: reads through the proxies, health
 * (degraded, naming the stream), the expiry leader's lease, presence and request nonces. Once short-lived
 * tasks expire, the leader purges them and writes succeed again by themselves. Nothing acknowledged is lost.
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { DEV_DEFAULTS } from '@beamline/devnet';
import { EVENTS_STREAM, EXPIRY_LEADER_LEASE, LEASE_BUCKET, PRESENCE_BUCKET, presenceKeys, subjects } from '@beamline/nats';
import { newTask, type Reply } from './support/app-client';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { StreamAccess } from './support/stream-access';

const APP2_AT_PROXY1 = 'app2.proxy1.broker';

const MiB = 2 ** 20;
const EVENTS_MAX_BYTES = 96 * MiB;
/** A sealed body travels base64 inside a base64url JWS: an event is about 1.78 × its body, here ~21 MiB. */
const BODY_BYTES = 12 * MiB;
/** Long enough for the last posts and the checks while full, on a loaded machine; then they expire. */
const SHORT_TTL_S = 60; // 30 s was too short once, with the machine busy (a read took 3 s)
/** Below this the fill posts tasks with a few bytes of body, until not even those fit: the log is at 95%. */
const SMALL_BODY_BYTES = 64 * 1024;

let t: TestNetwork;
let log: StreamAccess;
let jsm: JetStreamManager;

beforeAll(async () => {
  t = await startTestNetwork({
    // 96 + 64 + 8 + 8 + 2 × 2 + 160 + 1 MiB of limits reserved in a 416 MiB store.
    maxFileStore: 416 * MiB,
    storageEnv: {
      EVENTS_MAX_BYTES: '96MiB',
      AUDIT_MAX_BYTES: '64MiB',
      PKI_MAX_BYTES: '8MiB',
      NONCES_MAX_BYTES: '8MiB',
      PRESENCE_MAX_BYTES: '2MiB',
      BLOBS_MAX_BYTES: '160MiB',
    },
    // One app stands in for a whole network filling the log: its proxy's byte quota (half the log by default,
    // test/quotas.spec.ts) would stop it first.
    // Bodies stay inside their events (INLINE_BODY_MAX at its ceiling): this test fills the event log.
    extraEnv: { 'broker-api': { QUOTA_LIVE_BYTES: '96MiB' }, proxy: { INLINE_BODY_MAX: '16MiB' } },
  });
  log = await StreamAccess.open(t.net.natsUrl);
  jsm = await jetstreamManager(log.nc);
}, 120_000);

afterAll(async () => {
  await log?.close();
  await t?.net.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Random, so nothing on the way can compress it. */
const bodyOf = (bytes: number): string =>
  randomBytes(Math.ceil(bytes * 0.75))
    .toString('base64')
    .slice(0, bytes);
const basic = `Basic ${Buffer.from(`:${DEV_DEFAULTS.monitoringApiKey}`).toString('base64')}`;

async function brokerGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(`${t.net.brokerUrl}${path}`, { headers, signal: AbortSignal.timeout(5_000) });
  return { status: res.status, json: await res.json() };
}

async function until<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await sleep(250);
  }
}

/** When `proxyId`'s newest presence entry was written (0: none). */
async function lastPresenceWrite(presence: KV, proxyId: string): Promise<number> {
  let newest = 0;
  for await (const key of await presence.keys(presenceKeys.allConnections(proxyId))) {
    const e = await presence.get(key);
    if (e?.operation === 'PUT') newest = Math.max(newest, e.created.getTime());
  }
  return newest;
}

async function holds(subject: string): Promise<boolean> {
  return jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject }).then(
    (m) => m !== null,
    () => false,
  );
}

const eventsBytes = async (): Promise<number> => (await jsm.streams.info(EVENTS_STREAM)).state.bytes;

describe('a capped JetStream filled by one app', () => {
  it('refuses writes with 507 and keeps reads, health, the lease, presence and nonces working, then recovers by itself', async () => {
    const long: string[] = [];
    const short: string[] = [];
    let refused: Reply | undefined;
    try {
      // A small task for a second app, so a listing while full need not carry ~100 MB of bodies.
      const smallTask = newTask(APP1, [APP2_AT_PROXY1], { ttl: '10m' });
      expect((await t.app1.postTask(smallTask)).status).toBe(201);

      // Fill with long-lived tasks, the two short-lived ones last, so they expire only after the checks below.
      // Once a body does not fit, halve it, down to tasks with a few bytes of body, until not even those fit.
      let eventBytes = 0;
      let bodyBytes = BODY_BYTES;
      while (!refused) {
        const room = Math.floor(EVENTS_MAX_BYTES * 0.95) - (await eventsBytes());
        const isShort = eventBytes > 0 && room < 3 * eventBytes && short.length < 2;
        const tiny = bodyBytes < SMALL_BODY_BYTES;
        const task = newTask(APP1, [APP2], { ...(tiny ? {} : { body: bodyOf(bodyBytes) }), ttl: isShort ? `${SHORT_TTL_S}s` : '10m' });
        const before = await eventsBytes();
        const res = await t.app1.postTask(task);
        if (res.status === 507) {
          expect(res.json).toEqual({
            error: 'storage_full',
            message: expect.stringMatching(/^BEAM_EVENTS has no room for this write \(.*\): \d+(\.\d)?% of its 96 MiB limit/),
            store: 'BEAM_EVENTS',
          });
          if (tiny) refused = res;
          bodyBytes = Math.floor(bodyBytes / 2);
          continue;
        }
        expect(res.status).toBe(201);
        eventBytes ||= (await eventsBytes()) - before;
        (isShort ? short : long).push(task.id);
      }
      expect(eventBytes / BODY_BYTES).toBeGreaterThan(1.7);
      expect(eventBytes / BODY_BYTES).toBeLessThan(1.85);
      expect(short).toHaveLength(2);

      // Writes: 507 with a JSON error naming the stream, at once (the proxy does not retry it).
      const fullAt = Date.now();
      expect((refused?.json as { message: string }).message).toMatch(/: 9[45](\.\d)?% of its 96 MiB limit .* writes stop at 95%/);
      const asked = Date.now();
      const small = await t.app1.postTask(newTask(APP1, [APP2], { ttl: '10m' }));
      expect(small.status).toBe(507);
      expect(Date.now() - asked).toBeLessThan(5_000); // the proxy retries 502-504 for BROKER_RETRY_BUDGET (30 s), never a 507
      expect((small.json as { store: string }).store).toBe('BEAM_EVENTS');

      // Health: degraded, naming the stream and its usage.
      const health = await until(
        () => brokerGet('/v1/health'),
        (h) => h.json.summary === 'degraded',
        3_000,
      );
      expect(health.status).toBe(200);
      expect(health.json.reasons).toContainEqual(
        expect.stringMatching(/^BEAM_EVENTS at 9[45](\.\d)?% of its 96 MiB limit \(\d+(\.\d)? MiB\): new writes are refused \(507 storage_full\)/),
      );
      expect(health.json.storage.BEAM_EVENTS).toMatchObject({ max_bytes: EVENTS_MAX_BYTES });

      // The expiry leader renews its lease (every second), and presence is refreshed (every 10 s) and read:
      // KV writes, while the log refuses every client write.
      const leases = await new Kvm(log.nc).open(LEASE_BUCKET);
      const lease = await until(
        () => leases.get(EXPIRY_LEADER_LEASE),
        (e) => !!e && e.operation === 'PUT' && e.created.getTime() > fullAt,
        5_000,
      );
      expect(lease?.created.getTime()).toBeGreaterThan(fullAt);
      const presence = await new Kvm(log.nc).open(PRESENCE_BUCKET);
      const refreshed = await until(
        () => lastPresenceWrite(presence, 'proxy1.broker'),
        (at) => at > fullAt,
        12_000,
      );
      expect(refreshed).toBeGreaterThan(fullAt);
      expect((await brokerGet('/v1/health/proxies/proxy1.broker', { authorization: basic })).status).toBe(200);

      // Reads through the proxies, list and get (each request also claims a fresh nonce in KV beam-nonces).
      const todo = await t.app2AtProxy1.get('/v1/tasks?filter=todo');
      expect(todo.status).toBe(200);
      expect((todo.json as Array<{ id: string }>).map((x) => x.id)).toEqual([smallTask.id]);
      const one = await t.app2.get(`/v1/tasks/${long[0]}`);
      expect(one.status).toBe(200);
      expect((one.json as { body: string }).body).toHaveLength(BODY_BYTES);
      // Every check above ran while the log was full (only the short tasks' expiry can free space).
      expect((await t.app1.postTask(newTask(APP1, [APP2], { ttl: '10m' }))).status).toBe(507);

      // Recovery by itself: the short tasks expire, the leader records TaskExpired and purges them.
      const recovered = await until(
        () => t.app1.postTask(newTask(APP1, [APP2], { body: bodyOf(BODY_BYTES), ttl: '10m' })),
        (r) => r.status !== 507,
        (SHORT_TTL_S + 20) * 1_000,
      );
      expect(recovered.status).toBe(201);
      // Removed only after their TaskExpired reached BEAM_AUDIT (which then leaves the live log as well), a
      // sweep at a time: the first removals already made room for the write above.
      const stillHeld = async () => (await Promise.all(short.map((id) => holds(subjects.taskCreated(id))))).filter(Boolean).length;
      expect(await until(stillHeld, (n) => n === 0, 10_000)).toBe(0);

      // Nothing acknowledged was lost: every long-lived task is still in the log.
      for (const id of [smallTask.id, ...long]) expect(await holds(subjects.taskCreated(id))).toBe(true);
    } catch (err) {
      console.log(dumpLogs(t.net));
      throw err;
    }
  }, 210_000);
});
