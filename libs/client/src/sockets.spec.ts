import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { BeamClient } from './client';
import { BeamAbortError, BeamHttpError, BeamNetworkError } from './errors';
import { eventually, json, startLocalServer, REFUSING_URL, type LocalServer, type UpgradeHandler } from './testing/local-server';

const APP = 'app1.proxy1.broker';
const PEER = 'app2.proxy2.broker';
const SOCKET_ID = '0b0c5c39-7d5c-4bbd-9a26-0ab1c3b3c8a1';

let server: LocalServer | undefined;
const upgrades: IncomingMessage[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  upgrades.length = 0;
});

async function clientFor(onUpgrade: UpgradeHandler, retries = 3): Promise<BeamClient> {
  server = await startLocalServer(
    (req, res) => json(res, 200, [{ from: PEER, to: [APP], id: SOCKET_ID, ttl: '59s', metadata: null, url: req.url }]),
    (req, socket, head) => {
      upgrades.push(req);
      onUpgrade(req, socket, head);
    },
  );
  return new BeamClient(APP, 'App1Secret', server.url, { retries, retryBaseDelayMs: 1 });
}

/** The proxy's 101, then an echo of everything; `early` is sent in the same packet as the head. */
const echo =
  (early = ''): UpgradeHandler =>
  (_req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${early}`);
    socket.pipe(socket);
  };

function readBytes(socket: Socket, n: number): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    socket.on('data', (chunk: Buffer) => {
      got += chunk.toString('utf8');
      if (got.length >= n) resolve(got);
    });
  });
}

describe('createSocket', () => {
  it('upgrades POST /v1/sockets/{to} with Upgrade: tcp and JSON metadata, and hands over the byte stream (bytes behind the 101 included)', async () => {
    const client = await clientFor(echo('hello from the peer|'));
    const socket = await client.createSocket(PEER, { metadata: { purpose: 'démo ✓' } });
    const reading = readBytes(socket, 'hello from the peer|ping'.length);
    socket.write('ping');
    expect(await reading).toBe('hello from the peer|ping');
    socket.destroy();
    const req = upgrades[0];
    expect([req.method, req.url]).toEqual(['POST', `/v1/sockets/${PEER}`]);
    expect(req.headers.upgrade).toBe('tcp');
    expect(req.headers.connection).toBe('Upgrade');
    // Non-ASCII metadata travels JSON-escaped: an HTTP header carries Latin-1 at most.
    expect(req.headers.metadata).toBe('{"purpose":"d\\u00e9mo \\u2713"}');
    expect(JSON.parse(req.headers.metadata as string)).toEqual({ purpose: 'démo ✓' });
    expect(req.headers.authorization).toBe(`ApiKey ${APP} App1Secret`);
  });

  it('fails with the proxy error of a non-101 answer, e.g. 410 socket_expired', async () => {
    const body = JSON.stringify({ error: 'socket_expired', message: 'nobody connected within 60s' });
    const client = await clientFor((_req, socket) =>
      socket.end(`HTTP/1.1 410 Gone\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
    );
    const err = await client.createSocket(PEER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamHttpError);
    expect(err).toMatchObject({ status: 410, code: 'socket_expired' });
    expect(upgrades).toHaveLength(1);
  });

  it('stops waiting for the recipient on abort and closes the request', async () => {
    // The recipient never connects. An upgraded server socket is half-open: close it when the client's side ends.
    const client = await clientFor((_req, socket) => socket.resume().on('end', () => socket.end()));
    const controller = new AbortController();
    const creating = client.createSocket(PEER, { signal: controller.signal });
    await eventually(() => upgrades.length === 1);
    controller.abort();
    await expect(creating).rejects.toBeInstanceOf(BeamAbortError);
    await eventually(() => server?.closedConnections() === 1);
  });

  it('does not send the request again after the connection was cut once it went out: the first may stand', async () => {
    const client = await clientFor((_req, socket) => socket.destroy());
    const err = await client.createSocket(PEER).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamNetworkError);
    expect(upgrades).toHaveLength(1);
  });

  it('retries a refused connection: nothing reached the proxy', async () => {
    const client = new BeamClient(APP, 'k', REFUSING_URL, { retries: 2, retryBaseDelayMs: 1 });
    await expect(client.createSocket(PEER)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('listSockets and connectSocket', () => {
  it('lists socket requests with the wait options and connects to one with GET /v1/sockets/{id}', async () => {
    const client = await clientFor(echo());
    const [request] = await client.listSockets({ waitCount: 1, waitTimeMs: 5000 });
    expect(request).toMatchObject({ from: PEER, id: SOCKET_ID, url: '/v1/sockets?wait_count=1&wait_time=5000ms' });
    const socket = await client.connectSocket(request.id);
    const reading = readBytes(socket, 4);
    socket.write('pong');
    expect(await reading).toBe('pong');
    socket.destroy();
    expect([upgrades[0].method, upgrades[0].url, upgrades[0].headers.upgrade]).toEqual(['GET', `/v1/sockets/${SOCKET_ID}`, 'tcp']);
  });
});
