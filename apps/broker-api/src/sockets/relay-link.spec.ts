import { createHash, randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { DEFAULT_RELAY_LINK_OPTIONS, RelayLink, type LinkOutcome, type RelayLinkOptions } from './relay-link';

/** An in-order channel that drops messages the `drop` rule picks (core NATS at its worst). */
class LossyChannel {
  delivered = 0;
  dropped = 0;
  dataBytes = 0;
  private offered = 0;
  constructor(private readonly drop: (msg: Buffer, n: number) => boolean) {}

  send(msg: Buffer, to: () => RelayLink): void {
    const n = this.offered++;
    if (this.drop(msg, n)) {
      this.dropped++;
      return;
    }
    if (msg[0] === 0x44) this.dataBytes += msg.length;
    const copy = Buffer.from(msg);
    setImmediate(() => {
      this.delivered++;
      to().receive(copy);
    });
  }
}

/** A seeded PRNG, so a failing loss pattern can be replayed. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pair {
  /** The app-facing ends (what the proxies hold). */
  a: Socket;
  b: Socket;
  linkA: RelayLink;
  linkB: RelayLink;
  outcomes: Promise<[LinkOutcome, LinkOutcome]>;
}

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

async function tcpPair(): Promise<{ outer: Socket; inner: Socket }> {
  const server = createServer({ allowHalfOpen: true });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const inner = new Promise<Socket>((r) => server.once('connection', r));
  const port = (server.address() as { port: number }).port;
  const outer = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  return { outer, inner: await inner };
}

async function linkedPair(channel: LossyChannel, opts: Partial<RelayLinkOptions> = {}): Promise<Pair> {
  const options = { ...DEFAULT_RELAY_LINK_OPTIONS, probeAfterMs: 100, ...opts };
  const [x, y] = [await tcpPair(), await tcpPair()];
  let doneA: (o: LinkOutcome) => void = () => undefined;
  let doneB: (o: LinkOutcome) => void = () => undefined;
  const outcomes = Promise.all([new Promise<LinkOutcome>((r) => (doneA = r)), new Promise<LinkOutcome>((r) => (doneB = r))]);
  const linkA: RelayLink = new RelayLink(
    x.inner,
    (m) => channel.send(m, () => linkB),
    (o) => doneA(o),
    options,
  );
  const linkB: RelayLink = new RelayLink(
    y.inner,
    (m) => channel.send(m, () => linkA),
    (o) => doneB(o),
    options,
  );
  linkA.start(Buffer.alloc(0));
  linkB.start(Buffer.alloc(0));
  x.outer.on('error', () => undefined);
  y.outer.on('error', () => undefined);
  return { a: x.outer, b: y.outer, linkA, linkB, outcomes };
}

/** Writes `total` random bytes with backpressure, then FIN; resolves with their digest. */
async function pump(from: Socket, total: number): Promise<string> {
  const hash = createHash('sha256');
  for (let sent = 0; sent < total;) {
    const chunk = randomBytes(Math.min(total - sent, 1 + Math.floor(Math.random() * 100_000)));
    hash.update(chunk);
    sent += chunk.length;
    if (!from.write(chunk)) await new Promise((r) => from.once('drain', r));
  }
  from.end();
  return hash.digest('hex');
}

function drain(to: Socket): Promise<{ digest: string; bytes: number; clean: boolean }> {
  const hash = createHash('sha256');
  let bytes = 0;
  return new Promise((resolve) => {
    to.on('data', (c: Buffer) => {
      hash.update(c);
      bytes += c.length;
    });
    let settled = false;
    const done = (clean: boolean): void => {
      if (settled) return;
      settled = true;
      resolve({ digest: hash.digest('hex'), bytes, clean });
    };
    to.once('end', () => done(true));
    to.once('close', () => done(false));
  });
}

describe('RelayLink', () => {
  it('moves bytes both ways intact and ends cleanly over a channel that loses nothing', async () => {
    const channel = new LossyChannel(() => false);
    const p = await linkedPair(channel);
    const [gotB, gotA] = [drain(p.b), drain(p.a)];
    const [sentA, sentB] = await Promise.all([pump(p.a, 3_000_000), pump(p.b, 2_000_000)]);
    expect(await gotB).toEqual({ digest: sentA, bytes: 3_000_000, clean: true });
    expect(await gotA).toEqual({ digest: sentB, bytes: 2_000_000, clean: true });
    expect(await p.outcomes).toEqual(['clean', 'clean']);
    expect(p.linkA.retransmittedBytes + p.linkB.retransmittedBytes).toBe(0);
  });

  it('recovers every byte and the FIN when 5% of all messages (data, acks, probes, FINs) are lost', async () => {
    const random = seeded(20261123);
    const channel = new LossyChannel(() => random() < 0.05);
    const p = await linkedPair(channel);
    const [gotB, gotA] = [drain(p.b), drain(p.a)];
    const [sentA, sentB] = await Promise.all([pump(p.a, 8_000_000), pump(p.b, 1_000_000)]);
    expect(await gotB).toEqual({ digest: sentA, bytes: 8_000_000, clean: true });
    expect(await gotA).toEqual({ digest: sentB, bytes: 1_000_000, clean: true });
    expect(await p.outcomes).toEqual(['clean', 'clean']);
    expect(channel.dropped).toBeGreaterThanOrEqual(5);
    expect(p.linkA.retransmittedBytes).toBeGreaterThan(0);
  }, 30_000);

  it('ends cleanly on both sides under 25 different 5% loss patterns (the close handshake included)', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const random = seeded(seed);
      const p = await linkedPair(new LossyChannel(() => random() < 0.05));
      const [gotB, gotA] = [drain(p.b), drain(p.a)];
      const [sentA, sentB] = await Promise.all([pump(p.a, 400_000), pump(p.b, 200_000)]);
      expect({ seed, b: (await gotB).digest, a: (await gotA).digest, outcomes: await p.outcomes }).toEqual({
        seed,
        b: sentA,
        a: sentB,
        outcomes: ['clean', 'clean'],
      });
    }
  }, 60_000);

  it('survives losing 50 messages in a row (data, acks and probes), as a NATS reconnect would', async () => {
    const channel = new LossyChannel((_m, n) => n >= 40 && n < 90);
    const p = await linkedPair(channel);
    const got = drain(p.b);
    p.a.on('data', () => undefined);
    const sent = await pump(p.a, 5_000_000);
    expect(await got).toEqual({ digest: sent, bytes: 5_000_000, clean: true });
    p.b.end();
    expect(await p.outcomes).toEqual(['clean', 'clean']);
    expect(channel.dropped).toBe(50);
  }, 30_000);

  it('recovers a lost FIN and a lost final ack', async () => {
    const isEnd = (m: Buffer): boolean => m[0] === 0x45;
    const seen = new Set<string>();
    // Drop the first copy of each FIN and the first ack that confirms it.
    const channel = new LossyChannel((m) => {
      const key = isEnd(m) ? `E${m.readUIntBE(1, 6)}` : m[0] === 0x41 && (m[13] & 1) === 1 ? `A${m.readUIntBE(1, 6)}` : undefined;
      if (!key || seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const p = await linkedPair(channel);
    const [gotB, gotA] = [drain(p.b), drain(p.a)];
    const [sentA, sentB] = await Promise.all([pump(p.a, 10_000), pump(p.b, 10_000)]);
    expect((await gotB).digest).toBe(sentA);
    expect((await gotA).digest).toBe(sentB);
    expect(await p.outcomes).toEqual(['clean', 'clean']);
    expect(channel.dropped).toBeGreaterThanOrEqual(2);
  }, 15_000);

  it('stops relaying while the receiving app does not read, and resumes when it does (backpressure)', async () => {
    const channel = new LossyChannel(() => false);
    const p = await linkedPair(channel, { windowBytes: 256 * 1024, ackBatchBytes: 64 * 1024 });
    p.b.pause();
    const chunk = Buffer.alloc(64 * 1024);
    let blocked = false;
    const writer = (async () => {
      while (!p.a.destroyed) {
        if (!p.a.write(chunk)) {
          blocked = true;
          await new Promise((r) => (p.a.once('drain', r), p.a.once('close', r)));
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 1_500));
    const relayed = channel.dataBytes;
    await new Promise((r) => setTimeout(r, 500));
    expect(blocked).toBe(true);
    expect(channel.dataBytes).toBe(relayed);
    p.b.resume(); // reading again opens the window
    await new Promise((r) => setTimeout(r, 300));
    expect(channel.dataBytes).toBeGreaterThan(relayed);
    p.a.destroy();
    p.b.destroy();
    await writer;
    await p.outcomes; // both links end once both apps are gone
  });

  it('resets the other side when one side resets, and its own side when the peer goes silent', async () => {
    const channel = new LossyChannel(() => false);
    const p = await linkedPair(channel);
    const closedB = drain(p.b);
    p.a.resetAndDestroy();
    expect((await closedB).clean).toBe(false);
    expect(await p.outcomes).toEqual(['reset', 'peer-reset']);

    let silent = false;
    const quiet = new LossyChannel(() => silent);
    const q = await linkedPair(quiet, { peerTimeoutMs: 600, heartbeatMs: 150 });
    const closedA = drain(q.a);
    await new Promise((r) => setTimeout(r, 1_000)); // heartbeats keep an idle link alive past the timeout
    expect(q.linkA.finished || q.linkB.finished).toBe(false);
    silent = true;
    const started = Date.now();
    expect((await closedA).clean).toBe(false);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await q.outcomes).toEqual(['peer-silent', 'peer-silent']);
  });
});
