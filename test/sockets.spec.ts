/**
 * Direct sockets end to end: Samply.Beam's Python example verbatim, pairing across broker-api replicas,
 * bulk transfer with flat memory, teardown without leaks, ciphertext-only relay, and the error answers.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectNats } from '@beamline/nats';
import { closed, rawUpgrade, readExactly, startHttpService, type ServiceHandle } from '@beamline/devnet';
import { AppClient } from './support/app-client';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { openSocketPair } from './support/socket-pair';
import { startTcpCutter, type TcpCutter } from './support/tcp-cutter';

const SOCKET_TTL_S = 6;
let t: TestNetwork;
let broker2: ServiceHandle;
let broker2Url: string;
/** broker-api-2 reaches NATS through this, so a test can drop its connection. */
let broker2Nats: TcpCutter;
let proxy2b: ServiceHandle;
/** app2 behind a second instance of proxy2 that talks to the second broker-api replica. */
let app2ViaBroker2: AppClient;

const PEER_TIMEOUT = '5s';

/** Another broker-api replica on the test network's NATS (or `natsUrl`), with its own port. */
async function startBrokerReplica(name: string, natsUrl: string): Promise<{ service: ServiceHandle; url: string }> {
  const service = await startHttpService({
    name,
    script: join(__dirname, '..', 'dist', 'apps', 'broker-api', 'src', 'main.js'),
    env: {
      NATS_URL: natsUrl,
      BROKER_ID: 'broker',
      ROOTCERT_FILE: t.net.pki.rootCertFile,
      SESSION_SECRET: t.net.sessionSecret,
      MONITORING_API_KEY: 'SuperSecretKey',
      SOCKET_PEER_TIMEOUT: PEER_TIMEOUT,
    },
    healthPath: '/v1/health',
  });
  return { service, url: service.url };
}

/**
 * Another instance of proxy2 (same identity and key) that talks to `brokerUrl`; app2 behind it. It
 * authenticates with a signature per request, so the socket tests across replicas cover both broker
 * authentications (proxy1 uses session MACs, the default).
 */
async function startProxy2Via(name: string, brokerUrl: string): Promise<{ service: ServiceHandle; app2: AppClient }> {
  const service = await startHttpService({
    name,
    script: join(__dirname, '..', 'dist', 'apps', 'proxy', 'src', 'main.js'),
    env: {
      BROKER_URL: brokerUrl,
      PROXY_ID: 'proxy2.broker',
      PRIVKEY_FILE: t.net.pki.proxies[1].keyFile,
      ROOTCERT_FILE: t.net.pki.rootCertFile,
      APP_app1_KEY: 'App1Secret',
      APP_app2_KEY: 'App1Secret',
      SOCKET_TTL: `${SOCKET_TTL_S}s`,
      BROKER_AUTH: 'signature',
    },
    healthPath: '/v1/health',
  });
  return { service, app2: new AppClient(service.url, APP2) };
}

beforeAll(async () => {
  t = await startTestNetwork({
    extraEnv: { proxy: { SOCKET_TTL: `${SOCKET_TTL_S}s`, SOCKET_LIST_WAIT: 'beam' }, 'broker-api': { SOCKET_PEER_TIMEOUT: PEER_TIMEOUT } },
  });
  const nats = new URL(t.net.natsUrl);
  broker2Nats = await startTcpCutter({ host: nats.hostname, port: Number(nats.port) });
  const replica = await startBrokerReplica('broker-api-2', broker2Nats.url);
  [broker2, broker2Url] = [replica.service, replica.url];
  const proxy = await startProxy2Via('proxy2b', broker2Url);
  [proxy2b, app2ViaBroker2] = [proxy.service, proxy.app2];
}, 120_000);

afterAll(async () => {
  if (process.env.BEAMLINE_TEST_LOG === 'dump' && t) console.log(dumpLogs(t.net), proxy2b?.recentLogs(), broker2?.recentLogs());
  await proxy2b?.stop();
  await broker2?.stop();
  await broker2Nats?.close();
  await t?.net.stop();
});

interface RelayStats {
  relays: number;
  subscriptions: number;
  waiting: number;
  retransmitted_bytes: number;
}

async function relayStats(url: string): Promise<RelayStats> {
  return (await (await fetch(`${url}/v1/health/sockets`)).json()) as RelayStats;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Transfer {
  bytes: number;
  seconds: number;
  /** SHA-256 of what was sent and of what arrived. */
  sent: string;
  received: string;
}

/**
 * Streams `total` random bytes from the initiator to the recipient in 1 MiB blocks with backpressure, FIN
 * both ways, and waits for both to close. Fails (with every service's recent logs) on an unclean end.
 */
async function streamOneWay(pair: { initiator: Socket; recipient: Socket }, total: number, progress?: (sent: number) => void): Promise<Transfer> {
  const block = randomBytes(1024 * 1024);
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let got = 0;
  // Where the bytes first differ from what was sent (every MiB sent is `block`): a failure says where.
  let firstWrongByte: number | undefined;
  const done = new Promise<void>((resolve, reject) => {
    pair.recipient.on('data', (c: Buffer) => {
      received.update(c);
      const at = got % block.length;
      const same = at + c.length <= block.length && c.equals(block.subarray(at, at + c.length));
      if (firstWrongByte === undefined && !same) {
        for (let i = 0; i < c.length; i++) {
          if (c[i] !== block[(got + i) % block.length]) {
            firstWrongByte = got + i;
            break;
          }
        }
      }
      got += c.length;
    });
    pair.recipient.on('end', () => resolve());
    pair.recipient.on('close', () =>
      reject(
        new Error(
          `the recipient was closed without a clean end after ${got} bytes\n${dumpLogs(t.net)}\n--- broker-api-2\n${broker2.recentLogs()}\n--- proxy2b\n${proxy2b.recentLogs()}`,
        ),
      ),
    );
    pair.recipient.on('error', () => undefined);
    pair.initiator.on('error', () => undefined);
    pair.recipient.resume();
  });
  const started = Date.now();
  for (let off = 0; off < total && !pair.initiator.destroyed; off += block.length) {
    sent.update(block);
    progress?.(off);
    if (!pair.initiator.write(block)) await new Promise((r) => (pair.initiator.once('drain', r), pair.initiator.once('close', r)));
  }
  pair.initiator.end();
  await done;
  const seconds = (Date.now() - started) / 1000;
  pair.recipient.end();
  pair.initiator.resume();
  await Promise.all([closed(pair.initiator), closed(pair.recipient)]);
  const receivedDigest = received.digest('hex');
  const sentDigest = sent.digest('hex');
  if (receivedDigest !== sentDigest) {
    console.log(
      `socket transfer differs: ${got} of ${total} bytes arrived, first wrong byte at ${firstWrongByte ?? 'none (short)'}\n${dumpLogs(t.net)}\n--- broker-api-2\n${broker2.recentLogs()}\n--- proxy2b\n${proxy2b.recentLogs()}`,
    );
  }
  return { bytes: got, seconds, sent: sentDigest, received: receivedDigest };
}

describe('socket routes', () => {
  it('answers 426 without Upgrade, 401 without a key, 400 for a non-JSON metadata header, 404 for an unknown id', async () => {
    const noUpgrade = await t.app1.request('POST', `/v1/sockets/${APP2}`);
    expect(noUpgrade.status).toBe(426);
    expect((await t.app2.get(`/v1/sockets/${randomUUID()}`)).status).toBe(426);
    const noKey = await rawUpgrade(t.app1.proxyUrl, 'POST', `/v1/sockets/${APP2}`, APP1, undefined, 'wrong');
    expect(noKey.status).toBe(401);
    const badMeta = await rawUpgrade(t.app1.proxyUrl, 'POST', `/v1/sockets/${APP2}`, APP1, { Upgrade: 'tcp', Connection: 'Upgrade', metadata: '{not json' });
    expect(badMeta.status).toBe(400);
    const unknown = await rawUpgrade(t.app2.proxyUrl, 'GET', `/v1/sockets/${randomUUID()}`, APP2);
    expect(unknown.status).toBe(404);
    const otherUpgrade = await rawUpgrade(t.app1.proxyUrl, 'GET', '/v1/health', APP1, { Upgrade: 'websocket', Connection: 'Upgrade' });
    expect(otherUpgrade.status).toBe(200);
  });

  it('lists a socket request to its recipient only, with metadata and remaining ttl; 410 when nobody connects', async () => {
    const waiting = rawUpgrade(t.app1.proxyUrl, 'POST', `/v1/sockets/${APP2}`, APP1, {
      Upgrade: 'tcp',
      Connection: 'Upgrade',
      metadata: '{"purpose":"test-410"}',
    });
    const listing = await t.app2.get('/v1/sockets?wait_count=1&wait_time=5s');
    expect(listing.status).toBe(200);
    const mine = (listing.json as Array<Record<string, unknown>>).filter((s) => (s.metadata as { purpose?: string })?.purpose === 'test-410');
    expect(mine).toEqual([
      { from: APP1, to: [APP2], id: expect.stringMatching(/^[0-9a-f-]{36}$/), ttl: expect.stringMatching(/^\d+s$/), metadata: { purpose: 'test-410' } },
    ]);
    expect((await t.app1.get('/v1/sockets?wait_time=0')).json).toEqual([]);
    // docs/api.md's default (proxy2b runs without SOCKET_LIST_WAIT): no parameters answer at once.
    const atOnce = Date.now();
    expect((await new AppClient(app2ViaBroker2.proxyUrl, 'app1.proxy2.broker').get('/v1/sockets')).json).toEqual([]);
    expect(Date.now() - atOnce).toBeLessThan(2_000);
    const started = Date.now();
    const gone = await waiting;
    expect(gone.status).toBe(410);
    expect(Date.now() - started).toBeLessThan((SOCKET_TTL_S + 3) * 1000);
    // Expired: no longer listed, cannot be connected.
    expect((await t.app2.get('/v1/sockets?wait_time=0')).json).toEqual([]);
    expect((await rawUpgrade(t.app2.proxyUrl, 'GET', `/v1/sockets/${mine[0].id as string}`, APP2)).status).toBe(404);
  }, 30_000);

  it('connects a request at most once', async () => {
    const pair = await openSocketPair(t.app1, t.app2);
    const again = await rawUpgrade(t.app2.proxyUrl, 'GET', `/v1/sockets/${pair.id}`, APP2);
    expect(again.status).toBe(404);
    pair.initiator.end();
    pair.recipient.end();
    await Promise.all([closed(pair.initiator), closed(pair.recipient)]);
  });
});

describe("Samply.Beam's Python example", () => {
  it('runs verbatim (only the ports rewritten), exits 0, and both threads succeed', async () => {
    const readme = readFileSync(join(__dirname, 'support', 'socket-example.py'), 'utf8');
    const script = readme.replace(/localhost:8081/g, `localhost:${t.net.proxies[0].port}`).replace(/localhost:8082/g, `localhost:${t.net.proxies[1].port}`);
    const dir = mkdtempSync(join(tmpdir(), 'beam-py-'));
    writeFileSync(join(dir, 'example.py'), script);
    // The runner only records uncaught thread exceptions (a failed assert in a thread does not change the
    // exit code) and waits for the threads; the example itself runs unchanged.
    const runner = [
      'import runpy, sys, threading',
      'errors = []',
      'threading.excepthook = lambda a: errors.append(repr(a.exc_value))',
      `runpy.run_path(${JSON.stringify(join(dir, 'example.py'))}, run_name="__main__")`,
      'for th in threading.enumerate():',
      '    if th is not threading.main_thread(): th.join(30)',
      'print("thread errors:", errors)',
      'sys.exit(3 if errors else 0)',
    ].join('\n');
    const run = (argv: string[]): Promise<{ code: number | null; out: string }> =>
      new Promise((resolve) => {
        const child = spawn('python3', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        child.on('close', (c) => resolve({ code: c, out }));
      });
    // The plain script, as a user runs it: exit 0.
    expect((await run([join(dir, 'example.py')])).code).toBe(0);
    // With the thread check: both threads must succeed. (These proxies run with SOCKET_LIST_WAIT=beam: a
    // listing without parameters waits for a request, as in Samply.Beam; with docs/api.md's answer-at-once,
    // app2's listing overtakes app1's request and its thread fails with IndexError.)
    const checked = await run(['-c', runner]);
    expect({ code: checked.code, out: checked.out.trim() }).toEqual({ code: 0, out: 'thread errors: []' });
  }, 60_000);
});

describe('across broker-api replicas', () => {
  it('pairs ends on different replicas: 10 rounds of 256 random bytes each way arrive intact', async () => {
    const pair = await openSocketPair(t.app1, app2ViaBroker2);
    for (let round = 0; round < 10; round++) {
      const ping = randomBytes(256);
      pair.initiator.write(ping);
      expect((await readExactly(pair.recipient, 256)).equals(ping)).toBe(true);
      const pong = randomBytes(256);
      pair.recipient.write(pong);
      expect((await readExactly(pair.initiator, 256)).equals(pong)).toBe(true);
    }
    // Half-close: each FIN arrives as a clean end on the other side.
    const ended = new Promise<void>((resolve) => pair.recipient.once('end', () => resolve()));
    pair.initiator.end();
    pair.recipient.resume();
    await ended;
    pair.recipient.end();
    pair.initiator.resume();
    await Promise.all([closed(pair.initiator), closed(pair.recipient)]);
    await eventually(async () => (await relayStats(t.net.brokerUrl)).subscriptions === 0 && (await relayStats(broker2Url)).subscriptions === 0);
  });

  it('moves 100 MB one way intact with flat memory', async () => {
    const pair = await openSocketPair(t.app1, app2ViaBroker2);
    const pids = [t.net.services.get('broker-api')!.pid, broker2.pid, t.net.services.get('proxy1.broker')!.pid, proxy2b.pid];
    const rss = (): number[] => pids.map((pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024);
    const before = rss();
    const peak = [...before];
    const sampler = setInterval(() => rss().forEach((v, i) => (peak[i] = Math.max(peak[i], v))), 100);
    const retransmittedBefore = (await relayStats(t.net.brokerUrl)).retransmitted_bytes;
    let result: Transfer;
    try {
      result = await streamOneWay(pair, 100 * 1024 * 1024);
    } finally {
      clearInterval(sampler);
    }
    const retransmitted = (await relayStats(t.net.brokerUrl)).retransmitted_bytes - retransmittedBefore;
    const growthMb = peak.map((p, i) => Math.round((p - before[i]) / 1e6));
    console.log(
      `100 MB socket transfer: ${(result.bytes / 1e6 / result.seconds).toFixed(1)} MB/s (${result.seconds.toFixed(2)} s); ` +
        `RSS growth MB [broker-api, broker-api-2, proxy1, proxy2b] = ${growthMb.join(', ')}; retransmitted ${retransmitted} bytes`,
    );
    expect(result.received).toBe(result.sent);
    for (const g of growthMb) expect(g).toBeLessThan(150);
  }, 180_000);

  it("loses no byte when a replica's NATS connection drops mid-transfer", async () => {
    const pair = await openSocketPair(t.app1, app2ViaBroker2);
    const retransmittedBefore = (await relayStats(t.net.brokerUrl)).retransmitted_bytes;
    const result = await streamOneWay(pair, 30 * 1024 * 1024, (sent) => {
      if (sent === 10 * 1024 * 1024) broker2Nats.cut();
    });
    if (broker2Nats.cuts === 0) console.log(`no NATS connection of broker-api-2 to cut at 10 MiB:\n--- broker-api-2\n${broker2.recentLogs()}`);
    expect(broker2Nats.cuts).toBeGreaterThan(0);
    expect(result.received).toBe(result.sent);
    // What was lost in the cut is sent again. Not asserted: when the cut finds every sent byte already
    // delivered (the window waiting for acks, which the reconnecting client buffers), nothing is lost, and
    // one CI run saw exactly that. Go-back-N itself is pinned down in relay-link.spec.ts.
    console.log(`NATS cut mid-transfer: ${(await relayStats(t.net.brokerUrl)).retransmitted_bytes - retransmittedBefore} bytes retransmitted`);
    await eventually(async () => (await relayStats(t.net.brokerUrl)).relays === 0 && (await relayStats(broker2Url)).relays === 0);
  }, 120_000);

  it('delivers every byte to a recipient that reads slowly, after the sender ended and the relay closed', async () => {
    // The last megabytes sit in the recipient proxy's socket buffers when the sender's FIN arrives and the
    // relay closes; a reset at that moment dropped them (seen as a truncated 30 MB transfer under load).
    const pair = await openSocketPair(t.app1, app2ViaBroker2);
    const payload = randomBytes(16 * 1024 * 1024);
    pair.initiator.on('error', () => undefined);
    pair.recipient.on('error', () => undefined);
    pair.recipient.pause();
    pair.initiator.end(payload);
    const chunks: Buffer[] = [];
    let ended = false;
    pair.recipient.on('end', () => (ended = true));
    let closedUnclean = false;
    pair.recipient.on('close', () => (closedUnclean = !ended));
    await new Promise((r) => setTimeout(r, 1_000)); // every buffer on the way fills up
    // ~3 MB/s: far slower than the relay, so the recipient proxy always has data queued for it.
    while (!ended && !closedUnclean) {
      for (let c: Buffer | null; (c = pair.recipient.read() as Buffer | null) !== null;) chunks.push(c);
      await new Promise((r) => setTimeout(r, 20));
    }
    const received = Buffer.concat(chunks);
    expect({ bytes: received.length, intact: received.equals(payload), cleanEnd: ended }).toEqual({ bytes: payload.length, intact: true, cleanEnd: true });
    pair.recipient.end();
    pair.initiator.resume();
    await Promise.all([closed(pair.initiator), closed(pair.recipient)]);
  }, 60_000);

  it('resetting one side mid-stream closes the other within 2 s and leaves no subscriptions', async () => {
    const pair = await openSocketPair(t.app1, app2ViaBroker2);
    pair.initiator.write(randomBytes(200_000));
    await readExactly(pair.recipient, 1000);
    pair.recipient.on('error', () => undefined);
    pair.initiator.on('error', () => undefined);
    pair.recipient.resume();
    const elapsed = closed(pair.recipient);
    pair.initiator.resetAndDestroy();
    expect(await elapsed).toBeLessThan(2_000);
    await eventually(async () => {
      const [a, b] = [await relayStats(t.net.brokerUrl), await relayStats(broker2Url)];
      return a.subscriptions === 0 && b.subscriptions === 0 && a.relays === 0 && b.relays === 0;
    });
  });

  it('relays ciphertext only: a NATS tap on beam.sock.> never sees the plaintext', async () => {
    const nc = await connectNats(t.net.natsUrl, 'socket-tap');
    const marker = Buffer.from(`PLAINTEXT-MARKER-${randomUUID()}`);
    const plaintext = Buffer.concat(Array.from({ length: 2000 }, () => marker));
    let tapped = Buffer.alloc(0);
    let messages = 0;
    const sub = nc.subscribe('beam.sock.>', {
      callback: (_err, msg) => {
        messages++;
        tapped = Buffer.concat([tapped, Buffer.from(msg.data)]);
      },
    });
    try {
      const pair = await openSocketPair(t.app1, app2ViaBroker2);
      pair.initiator.write(plaintext);
      expect((await readExactly(pair.recipient, plaintext.length)).equals(plaintext)).toBe(true);
      pair.initiator.end();
      pair.recipient.end();
      pair.recipient.resume();
      pair.initiator.resume();
      await Promise.all([closed(pair.initiator), closed(pair.recipient)]);
      await nc.flush();
      expect(messages).toBeGreaterThan(2);
      expect(tapped.length).toBeGreaterThan(plaintext.length);
      expect(tapped.includes(marker.subarray(0, 16))).toBe(false);
    } finally {
      sub.unsubscribe();
      await nc.close();
    }
  });
});

/** Everything one app's end of a socket saw: bytes (SHA-256), a clean end, errors, how it closed. */
interface EndLog {
  bytes: number;
  sha: string;
  ended: boolean;
  errors: string[];
  closedWithError: boolean | undefined;
}

/**
 * Watches an app's end of a socket as a half-close-aware app (a Python socket after `shutdown(SHUT_WR)`):
 * it keeps reading after its own FIN and keeps writing after the peer's. `closed` resolves with the log when
 * the socket closes, or rejects after `timeoutMs`, so a hang fails the test instead of passing it.
 */
function watchEnd(socket: Socket, timeoutMs: number): { log: EndLog; closed: Promise<EndLog> } {
  socket.allowHalfOpen = true;
  const hash = createHash('sha256');
  const log: EndLog = { bytes: 0, sha: '', ended: false, errors: [], closedWithError: undefined };
  socket.on('data', (c: Buffer) => {
    hash.update(c);
    log.bytes += c.length;
  });
  socket.on('end', () => (log.ended = true));
  socket.on('error', (err: NodeJS.ErrnoException) => log.errors.push(err.code ?? err.message));
  const closedPromise = new Promise<EndLog>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms: ${JSON.stringify(log)}`)), timeoutMs);
    socket.once('close', (hadError: boolean) => {
      clearTimeout(timer);
      log.closedWithError = hadError;
      log.sha = hash.digest('hex');
      resolve(log);
    });
  });
  socket.resume();
  return { log, closed: closedPromise };
}

/** Resolves on 'drain' or 'close', whichever comes first, and leaves no listener behind. */
function drainedOrClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

describe('half-close', () => {
  const TOTAL = 8 * 1024 * 1024;
  const PIECE = 256 * 1024;

  /**
   * `closer` says goodbye and half-closes at once; `sender` keeps sending TOTAL bytes in pieces (the first
   * MiB before the FIN reached it, the rest after its 'end'), then ends its side too.
   */
  async function halfCloseWhileSending(closer: Socket, sender: Socket): Promise<void> {
    const closerEnd = watchEnd(closer, 45_000);
    const senderEnd = watchEnd(sender, 45_000);
    const sent = createHash('sha256');
    const bye = Buffer.from('bye, but keep talking');
    let written = 0;
    const writePiece = async (): Promise<void> => {
      const piece = randomBytes(PIECE);
      sent.update(piece);
      written += piece.length;
      if (!sender.write(piece)) await drainedOrClosed(sender);
    };
    await writePiece();
    closer.end(bye);
    while (written < 1024 * 1024 && !sender.destroyed) await writePiece();
    // The closer's FIN has crossed both proxies and the broker before the rest is sent.
    await eventually(async () => senderEnd.log.ended || sender.destroyed, 10_000);
    while (written < TOTAL && !sender.destroyed) await writePiece();
    sender.end();
    const [closerLog, senderLog] = await Promise.all([closerEnd.closed, senderEnd.closed]);
    expect({
      closer: {
        bytes: closerLog.bytes,
        intact: closerLog.sha === sent.digest('hex'),
        ended: closerLog.ended,
        errors: closerLog.errors,
        closedWithError: closerLog.closedWithError,
      },
      sender: {
        bytes: senderLog.bytes,
        intact: senderLog.sha === createHash('sha256').update(bye).digest('hex'),
        ended: senderLog.ended,
        errors: senderLog.errors,
        closedWithError: senderLog.closedWithError,
      },
    }).toEqual({
      closer: { bytes: TOTAL, intact: true, ended: true, errors: [], closedWithError: false },
      sender: { bytes: bye.length, intact: true, ended: true, errors: [], closedWithError: false },
    });
    await eventually(async () => (await relayStats(t.net.brokerUrl)).relays === 0 && (await relayStats(broker2Url)).relays === 0, 15_000);
  }

  it('delivers everything the recipient still sends after the initiator half-closed, and both ends close cleanly', async () => {
    const pair = await openSocketPair(t.app1, app2ViaBroker2);
    await halfCloseWhileSending(pair.initiator, pair.recipient);
  }, 60_000);

  it('delivers everything the initiator still sends after the recipient half-closed, and both ends close cleanly', async () => {
    const pair = await openSocketPair(t.app1, app2ViaBroker2);
    await halfCloseWhileSending(pair.recipient, pair.initiator);
  }, 60_000);
});

describe('when a broker-api replica dies mid-stream', () => {
  it('the surviving side resets within SOCKET_PEER_TIMEOUT and keeps no relay', async () => {
    const replica = await startBrokerReplica('broker-api-3', t.net.natsUrl);
    const proxy = await startProxy2Via('proxy2c', replica.url);
    try {
      const pair = await openSocketPair(t.app1, proxy.app2);
      pair.initiator.on('error', () => undefined);
      pair.recipient.on('error', () => undefined);
      pair.initiator.write(randomBytes(100_000));
      await readExactly(pair.recipient, 100_000);
      const survivorClosed = closed(pair.initiator);
      await replica.service.kill();
      const elapsed = await survivorClosed;
      expect(elapsed).toBeLessThan(5_000 + 4_000);
      await eventually(async () => (await relayStats(t.net.brokerUrl)).relays === 0);
    } finally {
      await proxy.service.stop();
      await replica.service.stop();
    }
  }, 60_000);
});
