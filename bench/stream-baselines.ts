/** Streams for the throughput benchmarks: raw TCP, raw core NATS and a Beamline direct socket, same bytes each. */
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { rawUpgrade, type DevNetwork } from '@beamline/devnet';
import { connectNats } from '@beamline/nats';

export const BLOCK = randomBytes(1024 * 1024);

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

export async function rawTcp(mb: number): Promise<number> {
  const server = createServer({ allowHalfOpen: true });
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const rate = await stream(client, await accepted, mb);
  client.destroy();
  server.close();
  return rate;
}

export async function rawNats(natsUrl: string, mb: number): Promise<number> {
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

export async function beamlineSocket(net: DevNetwork, mb: number): Promise<number> {
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

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
