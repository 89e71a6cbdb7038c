/**
 * Beamline's stores against a real nats-server whose JetStream store is capped: every stream and bucket gets
 * its limit (so JetStream reserves its space), limits the server cannot hold or that would delete stored
 * messages stop start-up with a message naming the settings, and a full event log refuses writes while the
 * buckets and the audit trail keep working.
 */
import { jetstream, jetstreamManager, DiscardPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { StorageFull, storageReasons } from '@beamline/domain';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import {
  allBucketStreams,
  ensureStorage,
  EventLog,
  leaseBucket,
  nonceBucket,
  openBucket,
  presenceBucket,
  proxiesBucket,
  readStorageSettings,
  StorageGauge,
  subjects,
  type StorageSettings,
} from '@beamline/nats';

const MiB = 2 ** 20;
const LIMITS = {
  EVENTS_MAX_BYTES: '200MiB',
  AUDIT_MAX_BYTES: '100MiB',
  PKI_MAX_BYTES: '8MiB',
  NONCES_MAX_BYTES: '8MiB',
  PRESENCE_MAX_BYTES: '2MiB',
  BLOBS_MAX_BYTES: '160MiB',
};
const settings = readStorageSettings(LIMITS);
const buckets = (s: StorageSettings) => [nonceBucket(s, 660_000), presenceBucket(s), proxiesBucket(s), leaseBucket(s, 3_000)];

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  // Room for the 481 MiB these limits add up to, not for twice as much.
  server = await startNatsServer({ maxFileStore: 560 * MiB });
  nc = await connect({ servers: server.url });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const config = async (stream: string) => (await jsm.streams.info(stream)).config;

describe('ensureStorage on a capped JetStream', () => {
  it('brings a log from before the limits (discard old, unlimited) and an unlimited bucket up to their limits, keeping every message', async () => {
    await jsm.streams.add({ name: 'BEAM_EVENTS', subjects: ['beam.ev.>'], storage: StorageType.File, discard: DiscardPolicy.Old, max_msg_size: 32 * MiB });
    for (let i = 0; i < 3; i++) await jetstream(nc).publish(subjects.taskExpired(`t${i}`), new Uint8Array(1_000));
    await new Kvm(nc).create('beam-nonces', { history: 1, ttl: 660_000 });

    await ensureStorage(nc, settings, buckets(settings));

    expect(await config('BEAM_EVENTS')).toMatchObject({ discard: DiscardPolicy.New, max_bytes: 200 * MiB });
    expect((await jsm.streams.info('BEAM_EVENTS')).state.messages).toBe(3);
    expect(await config('KV_beam-nonces')).toMatchObject({ discard: DiscardPolicy.New, max_bytes: 8 * MiB });
  });

  it('gives every stream and bucket its limit', async () => {
    const limits: Record<string, [number, DiscardPolicy]> = {};
    for (const name of ['BEAM_EVENTS', 'BEAM_AUDIT', 'BEAM_PKI', 'OBJ_beam-blobs', ...allBucketStreams()]) {
      const c = await config(name);
      limits[name] = [c.max_bytes / MiB, c.discard];
    }
    expect(limits).toEqual({
      BEAM_EVENTS: [200, DiscardPolicy.New],
      BEAM_AUDIT: [100, DiscardPolicy.Old],
      BEAM_PKI: [8, DiscardPolicy.New],
      'OBJ_beam-blobs': [160, DiscardPolicy.New],
      'KV_beam-nonces': [8, DiscardPolicy.New],
      'KV_beam-presence': [2, DiscardPolicy.New],
      'KV_beam-proxies': [2, DiscardPolicy.New],
      'KV_beam-leases': [1, DiscardPolicy.New],
    });
  });

  it('stops with a message naming the settings when the server cannot reserve them (no hang)', async () => {
    const tooBig = readStorageSettings({ ...LIMITS, AUDIT_MAX_BYTES: '300MiB' });
    await expect(ensureStorage(nc, tooBig, buckets(tooBig))).rejects.toThrow(
      /^JetStream cannot reserve 300 MiB for BEAM_AUDIT \(AUDIT_MAX_BYTES\): nats-server's jetstream max_file_store must hold all of Beamline's limits at once, 681 MiB per node \(EVENTS_MAX_BYTES=200 MiB, AUDIT_MAX_BYTES=300 MiB, .*Raise max_file_store/,
    );
    expect((await config('BEAM_AUDIT')).max_bytes).toBe(100 * MiB);
  });

  it('refuses to lower a limit below what the event log holds, instead of letting JetStream delete events', async () => {
    const log = new EventLog(nc);
    for (let i = 0; i < 5; i++) await log.append(subjects.taskCreated(`fill-${i}`), { pad: 'x'.repeat(15 * MiB) });
    const before = (await jsm.streams.info('BEAM_EVENTS')).state;
    const lower = readStorageSettings({ ...LIMITS, EVENTS_MAX_BYTES: '64MiB' });
    await expect(ensureStorage(nc, lower, buckets(lower))).rejects.toThrow(/^EVENTS_MAX_BYTES=64 MiB is less than BEAM_EVENTS holds now \(75 MiB\)/);
    expect((await jsm.streams.info('BEAM_EVENTS')).state).toMatchObject({ messages: before.messages, bytes: before.bytes });
    expect((await config('BEAM_EVENTS')).max_bytes).toBe(200 * MiB);
  });
});

describe('a full event log', () => {
  it('refuses appends with StorageFull naming BEAM_EVENTS, while small appends, the audit trail and every bucket keep working', async () => {
    const log = new EventLog(nc);
    let refused: unknown;
    const seqs: number[] = [];
    for (let i = 0; i < 20 && !refused; i++) {
      await log.append(subjects.taskCreated(`big-${i}`), { pad: 'x'.repeat(15 * MiB) }).then(
        (a) => seqs.push(a.seq),
        (err: unknown) => (refused = err),
      );
    }
    expect(refused).toBeInstanceOf(StorageFull);
    expect((refused as StorageFull).store).toBe('BEAM_EVENTS');
    expect((refused as StorageFull).message).toBe('BEAM_EVENTS is full (JetStream: maximum bytes exceeded); retry once space frees up');

    // What the expiry leader writes to free space: a TaskExpired is a few hundred bytes.
    await log.append(subjects.taskExpired('big-0'), { type: 'TaskExpired', v: 1, taskId: 'big-0', expiredAt: Date.now() });
    await jetstream(nc).publish('audit.beam.ev.task.big-0.expired', new Uint8Array(15 * MiB));
    for (const spec of buckets(settings)) {
      const kv = await openBucket(nc, spec);
      await kv.put(`key-${Date.now()}`, new TextEncoder().encode('still writable'));
    }

    const gauge = new StorageGauge(nc);
    await gauge.poll();
    expect(gauge.usage('BEAM_EVENTS')).toMatchObject({ maxBytes: 200 * MiB, whenFull: 'refuse', writesStopAt: 0.95 });
    expect(storageReasons(gauge.all())[0]).toMatch(
      /^BEAM_EVENTS at 9\d(\.\d)?% of its 200 MiB limit \(\d+(\.\d)? MiB\): new writes are refused \(507 storage_full\)/,
    );

    // Removing an expired task frees its space at once: the log takes large writes again.
    expect(await log.remove([seqs[1]])).toBe(1);
    await log.append(subjects.taskCreated('after-purge'), { pad: 'x'.repeat(10 * MiB) });
  });
});
