/** Streams for the throughput benchmarks: raw TCP, raw core NATS and a Beamline direct socket, same bytes each. */
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { BeamClient } from '@beamline/client';
import type { DevNetwork } from '@beamline/devnet';
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
  const app1 = new BeamClient('app1.proxy1.broker', 'App1Secret', p1.url);
  const app2 = new BeamClient('app2.proxy2.broker', 'App1Secret', p2.url);
  const initiating = app1.createSocket(app2.appId);
  const [request] = await app2.listSockets({ waitCount: 1, waitTimeMs: 10_000 });
  if (!request) throw new Error('no socket request listed');
  const recipient = await app2.connectSocket(request.id);
  const initiator = await initiating;
  initiator.resume();
  return stream(initiator, recipient, mb);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}
