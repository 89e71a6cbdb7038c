/**
 * The one consume loop (StreamFollower over readStream) against a real nats-server: large messages arrive
 * in pulls bounded by bytes, so a slow handler never gets its connection cut as a slow consumer and nothing
 * more is pulled while it is behind; after NATS restarts, following resumes without duplicates or gaps.
 */
import { jetstream, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, pullMaxBytes, readStream, StreamFollower, type FollowedMessage } from '@beamline/nats';

const STREAM = 'FOLLOW_TEST';
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let disconnects = 0;
let reconnects = 0;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats(server.url, 'follower-spec');
  jsm = await jetstreamManager(nc);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') disconnects++;
      if (s.type === 'reconnect') reconnects++;
    }
  })();
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

beforeEach(async () => {
  await jsm.streams.delete(STREAM).catch(() => undefined);
  await jsm.streams.add({ name: STREAM, subjects: ['follow.>'], storage: StorageType.File, max_msg_size: 32 * MiB });
  disconnects = 0;
});

/** Publishes messages of the given sizes, each filled with its own index. */
async function publish(sizes: number[]): Promise<void> {
  const js = jetstream(nc, { timeout: 20_000 });
  for (const [i, size] of sizes.entries()) await js.publish(`follow.${i}`, new Uint8Array(size).fill(i % 256));
}

async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  for (const deadline = Date.now() + ms; !check(); await sleep(50)) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${ms} ms`);
  }
}

describe('StreamFollower', () => {
  it('reads a stream of ~20 MB messages completely behind a slow handler, without being cut as a slow consumer', async () => {
    const sizes = [20 * MiB, 1_000, 20 * MiB, 20 * MiB, 5 * MiB, 20 * MiB, 20 * MiB, 20 * MiB];
    await publish(sizes);
    const seen: Array<{ seq: number; size: number; firstByte: number }> = [];
    const follower = new StreamFollower(nc, STREAM, 'follow.>', async (m: FollowedMessage) => {
      seen.push({ seq: m.seq, size: m.data.length, firstByte: m.data[0] });
      await sleep(300);
    });
    follower.start();
    try {
      await follower.caughtUp;
    } finally {
      await follower.stop();
    }
    expect(seen).toEqual(sizes.map((size, i) => ({ seq: i + 1, size, firstByte: i % 256 })));
    expect(disconnects).toBe(0);
  }, 60_000);

  it('pulls nothing more while its handler is behind', async () => {
    await publish([20 * MiB, 20 * MiB, 20 * MiB, 20 * MiB, 20 * MiB, 20 * MiB]);
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    let handled = 0;
    const follower = new StreamFollower(nc, STREAM, 'follow.>', async () => {
      handled++;
      await blocked;
    });
    follower.start();
    try {
      await until('the first message', 10_000, () => handled === 1);
      await sleep(1_500);
      // One pull of ~32 MiB holds one 20 MiB message: the server delivered it and waits for the next pull.
      const consumers = await jsm.consumers.list(STREAM).next();
      expect(consumers).toHaveLength(1);
      expect(consumers[0].delivered.stream_seq).toBe(1);
    } finally {
      release();
      await follower.stop();
    }
    expect(disconnects).toBe(0);
  }, 60_000);

  it('resumes after a NATS restart without duplicates or gaps', async () => {
    await publish(Array.from({ length: 50 }, () => 1_000));
    const seqs: number[] = [];
    const follower = new StreamFollower(
      nc,
      STREAM,
      'follow.>',
      (m) => void seqs.push(m.seq),
      () => undefined,
      { restartDelayMs: 100 },
    );
    follower.start();
    try {
      await follower.caughtUp;
      const before = reconnects;
      await server.restart();
      // A publish sent before the client is back can lose its acknowledgement; these must land once each.
      await until('the client reconnected', 10_000, () => reconnects > before);
      await publish(Array.from({ length: 50 }, () => 1_000));
      await until('all 100 messages', 20_000, () => seqs.length >= 100);
      await sleep(500);
    } finally {
      await follower.stop();
    }
    expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  }, 60_000);
});

describe('readStream', () => {
  it('ends after the last message when not following, and pulls at most the largest message the stream holds', async () => {
    await publish([3 * MiB, 1_000, 3 * MiB]);
    const seqs: number[] = [];
    for await (const m of readStream(nc, STREAM, { follow: false })) seqs.push(m.seq);
    expect(seqs).toEqual([1, 2, 3]);
    expect(pullMaxBytes(32 * MiB, 32 * MiB)).toBeLessThan(33 * MiB); // well under nats-server's 64 MiB per-client pending limit
  }, 30_000);

  it('starts at a sequence and at a time', async () => {
    await publish([10, 10]);
    // The server stamps nanoseconds: keep both sides of `between` a clear millisecond away.
    await sleep(20);
    const between = Date.now();
    await sleep(20);
    await publish([10, 10]);
    const fromSeq: number[] = [];
    for await (const m of readStream(nc, STREAM, { follow: false, startSeq: 2 })) fromSeq.push(m.seq);
    const fromTime: number[] = [];
    for await (const m of readStream(nc, STREAM, { follow: false, startTimeMs: between })) fromTime.push(m.seq);
    expect(fromSeq).toEqual([2, 3, 4]);
    expect(fromTime).toEqual([3, 4]);
  }, 30_000);
});
