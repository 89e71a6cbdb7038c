/**
 * bench/sockets — one-way throughput of a direct socket (app1 → proxy1 → broker-api → NATS → broker-api →
 * proxy2 → app2, sealed in frames end to end) on a dev network started for the run, beside in-run
 * baselines for the same byte count: a raw TCP loopback stream, and raw core-NATS publish/subscribe of
 * 64 KiB messages (the relay's hop).
 *
 *   npm run build && node dist/bench/sockets.js [--mb 200] [--runs 3]
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { rawUpgrade, startDevNetwork, type DevNetwork } from '@beamline/devnet';
import { connectNats } from '@beamline/nats';

const BLOCK = randomBytes(1024 * 1024);

function parseArgs(argv: string[]): { mb: number; runs: number } {
  const opts = { mb: 200, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node dist/bench/sockets.js [--mb 200] [--runs 3]');
      process.exit(0);
    }
    const key = ({ '--mb': 'mb', '--runs': 'runs' } as const)[argv[i] as '--mb'];
    if (!key || !/^\d+$/.test(argv[i + 1] ?? '')) throw new Error(`unknown or incomplete argument: ${argv[i]}`);
    opts[key] = Number(argv[i + 1]);
  }
  return opts;
}

/** Writes `mb` MiB into `from` with backpressure and FIN; resolves with MB/s once `to` has read them all. */
async function stream(from: Socket, to: Socket, mb: number): Promise<number> {
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let got = 0;
  const done = new Promise<void>((resolve, reject) => {
    to.on('data', (c: Buffer) => {
      received.update(c);
      got += c.length;
    });
    to.once('end', () => resolve());
    to.once('close', () => reject(new Error(`closed after ${got} bytes`)));
    to.resume();
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < mb; i++) {
    sent.update(BLOCK);
    if (!from.write(BLOCK)) await new Promise((r) => from.once('drain', r));
  }
  from.end();
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (got !== mb * BLOCK.length || sent.digest('hex') !== received.digest('hex')) throw new Error('the stream arrived altered');
  to.end();
  return got / 1e6 / seconds;
}

async function rawTcp(mb: number): Promise<number> {
  const server = createServer({ allowHalfOpen: true });
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const rate = await stream(client, await accepted, mb);
  client.destroy();
  server.close();
  return rate;
}

async function rawNats(natsUrl: string, mb: number): Promise<number> {
  const [pub, sub] = [await connectNats(natsUrl, 'bench-pub'), await connectNats(natsUrl, 'bench-sub')];
  const chunk = BLOCK.subarray(0, 64 * 1024);
  const total = mb * BLOCK.length;
  let got = 0;
  const done = new Promise<void>((resolve) => {
    sub.subscribe('bench.sockets', { callback: (_e, m) => ((got += m.data.length) >= total ? resolve() : undefined) });
  });
  await sub.flush();
  const started = process.hrtime.bigint();
  for (let sent = 0; sent < total; sent += chunk.length) {
    pub.publish('bench.sockets', chunk);
    if (sent % (4 * 1024 * 1024) === 0) await pub.flush(); // bounded, like the relay's window
  }
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await Promise.all([pub.close(), sub.close()]);
  return total / 1e6 / seconds;
}

async function beamlineSocket(net: DevNetwork, mb: number): Promise<number> {
  const [p1, p2] = net.proxies;
  const initiating = rawUpgrade(p1.url, 'POST', '/v1/sockets/app2.proxy2.broker', 'app1.proxy1.broker');
  const listing = await fetch(`${p2.url}/v1/sockets?wait_count=1&wait_time=10s`, { headers: { authorization: 'ApiKey app2.proxy2.broker App1Secret' } });
  const [request] = (await listing.json()) as Array<{ id: string }>;
  if (!request) throw new Error('no socket request listed');
  const recipient = await rawUpgrade(p2.url, 'GET', `/v1/sockets/${request.id}`, 'app2.proxy2.broker');
  const initiator = await initiating;
  if (recipient.status !== 101 || initiator.status !== 101) throw new Error(`upgrade answered ${initiator.status}/${recipient.status}`);
  initiator.socket.resume();
  return stream(initiator.socket, recipient.socket, mb);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const { mb, runs } = parseArgs(process.argv.slice(2));
  const net = await startDevNetwork({});
  try {
    const results = { tcp: [] as number[], nats: [] as number[], socket: [] as number[] };
    for (let i = 0; i < runs; i++) {
      results.tcp.push(await rawTcp(mb));
      results.nats.push(await rawNats(net.natsUrl, mb));
      results.socket.push(await beamlineSocket(net, mb));
    }
    const [tcp, nats, socket] = [median(results.tcp), median(results.nats), median(results.socket)];
    console.log(`${mb} MiB one way, median of ${runs} runs (MB/s)`);
    console.log(`  raw TCP loopback         ${tcp.toFixed(1).padStart(8)}`);
    console.log(`  raw core NATS pub/sub    ${nats.toFixed(1).padStart(8)}`);
    console.log(`  Beamline direct socket   ${socket.toFixed(1).padStart(8)}   = ${(socket / tcp).toFixed(3)} × TCP, ${(socket / nats).toFixed(2)} × NATS`);
  } finally {
    await net.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
