import type { Logger } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { EncryptedRelay } from './encrypted-relay';

const servers: Server[] = [];
afterEach(() => servers.splice(0).forEach((s) => s.close()));

/** A TCP connection: `client` as `net.connect` makes it (not half-open), `server` as an HTTP server's. */
async function tcpPair(): Promise<{ client: Socket; server: Socket }> {
  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const client = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1' });
  await new Promise((r) => client.once('connect', r));
  return { client, server: await accepted };
}

const quiet = { debug: () => undefined, warn: () => undefined } as unknown as Logger;

/**
 * Two proxies' EncryptedRelays with their relay connections joined directly (the broker is a plain TCP
 * connection here): the initiator's relay is the connecting side, as the proxy's broker upgrade is.
 */
async function relayedPair(): Promise<{ initiator: Socket; recipient: Socket }> {
  const [a2b, b2a] = [randomBytes(32), randomBytes(32)];
  const [appA, appB, relay] = [await tcpPair(), await tcpPair(), await tcpPair()];
  new EncryptedRelay(appA.server, relay.client, a2b, b2a, quiet).start(Buffer.alloc(0), Buffer.alloc(0));
  new EncryptedRelay(appB.server, relay.server, b2a, a2b, quiet).start(Buffer.alloc(0), Buffer.alloc(0));
  for (const app of [appA.client, appB.client]) app.allowHalfOpen = true;
  return { initiator: appA.client, recipient: appB.client };
}

interface Seen {
  bytes: number;
  digest: string;
  ended: boolean;
  errors: string[];
  hadError: boolean;
}

/** What `socket` saw until it closed; rejects if it does not close within 10 s (a hang fails, never passes). */
function watch(socket: Socket): Promise<Seen> {
  const hash = createHash('sha256');
  const seen: Seen = { bytes: 0, digest: '', ended: false, errors: [], hadError: false };
  socket.on('data', (c: Buffer) => {
    hash.update(c);
    seen.bytes += c.length;
  });
  socket.on('end', () => (seen.ended = true));
  socket.on('error', (err: NodeJS.ErrnoException) => seen.errors.push(err.code ?? err.message));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not closed within 10 s: ${JSON.stringify(seen)}`)), 10_000);
    socket.once('close', (hadError: boolean) => {
      clearTimeout(timer);
      seen.hadError = hadError;
      seen.digest = hash.digest('hex');
      resolve(seen);
    });
  });
}

describe('EncryptedRelay', () => {
  it.each([
    ['initiator', 'recipient'],
    ['recipient', 'initiator'],
  ] as const)('carries the %s half-close while the %s keeps sending 4 MiB, and both close cleanly', async (closerRole, senderRole) => {
    const pair = await relayedPair();
    const [closer, sender] = [pair[closerRole], pair[senderRole]];
    const [closerSaw, senderSaw] = [watch(closer), watch(sender)];
    closer.end();
    // The closer's FIN went all the way before anything is sent.
    await new Promise<void>((r) => (sender.once('end', () => r()), sender.once('close', () => r())));
    const sent = createHash('sha256');
    for (let i = 0; i < 64 && !sender.destroyed; i++) {
      const piece = randomBytes(64 * 1024);
      sent.update(piece);
      if (!sender.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = (): void => (sender.off('drain', done), sender.off('close', done), resolve());
          sender.once('drain', done);
          sender.once('close', done);
        });
      }
    }
    sender.end();
    const [c, s] = await Promise.all([closerSaw, senderSaw]);
    expect({ closer: c, sender: s }).toEqual({
      closer: { bytes: 4 * 1024 * 1024, digest: sent.digest('hex'), ended: true, errors: [], hadError: false },
      sender: { bytes: 0, digest: createHash('sha256').digest('hex'), ended: true, errors: [], hadError: false },
    });
  });
});
