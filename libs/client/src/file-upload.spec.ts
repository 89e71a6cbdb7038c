import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { BeamClient } from './client';
import { BeamAbortError, BeamError, BeamHttpError } from './errors';
import { hangUp, json, REFUSING_URL, startLocalServer, type Handler, type LocalServer } from './testing/local-server';

const APP = 'app1.proxy1.broker';
const PEER = 'app2.proxy2.broker';
const OTHER = 'app3.proxy3.broker';
const FILE_ID = '5b8f2d4e-3c1a-4f6b-9e7d-2a1c0b9f8e7d';
const EXPIRES = '2030-01-01T00:00:00.000Z';

let server: LocalServer | undefined;
let raw: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  raw?.closeAllConnections();
  await new Promise<void>((resolve) => (raw ? raw.close(() => resolve()) : resolve()));
  raw = undefined;
});

async function clientFor(handler: Handler, retries = 3): Promise<BeamClient> {
  server = await startLocalServer(handler);
  return new BeamClient(APP, 'App1Secret', server.url, { retries, retryBaseDelayMs: 1, retryMaxDelayMs: 5 });
}

const created: Handler = (_req, res) => json(res, 201, { id: FILE_ID, expiresAt: EXPIRES }, { location: `/v1/files/${FILE_ID}` });

/** A plain node:http server for uploads that the recorded server cannot mimic (it answers after the whole body). */
async function rawServer(handler: (req: IncomingMessage, res: ServerResponse, n: number) => void): Promise<Server> {
  let n = 0;
  const srv = createServer((req, res) => handler(req, res, n++));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return srv;
}

function clientOf(srv: Server): BeamClient {
  return new BeamClient(APP, 'k', `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, { retries: 3, retryBaseDelayMs: 1, retryMaxDelayMs: 5 });
}

function tempFile(bytes: Buffer): string {
  const path = join(mkdtempSync(join(tmpdir(), 'beam-client-')), 'data.bin');
  writeFileSync(path, bytes);
  return path;
}

describe('sendFile', () => {
  it('streams a file path with its size as Content-Length, the recipients, TTL and metadata', async () => {
    const data = randomBytes(300_000);
    const client = await clientFor(created);
    const progress: number[] = [];
    const sent = await client.sendFile([PEER, OTHER], tempFile(data), { ttl: '5m', metadata: { name: 'données.bin' }, onProgress: (n) => progress.push(n) });
    expect(sent).toEqual({ id: FILE_ID, expiresAt: EXPIRES });
    const req = server?.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe(`/v1/files?to=${encodeURIComponent(`${PEER},${OTHER}`)}&ttl=5m`);
    expect(req?.headers.authorization).toBe(`ApiKey ${APP} App1Secret`);
    expect(req?.headers['content-type']).toBe('application/octet-stream');
    expect(req?.headers['content-length']).toBe(String(data.length));
    expect(req?.headers['beam-metadata']).toBe('{"name":"donn\\u00e9es.bin"}');
    expect(JSON.parse(req?.headers['beam-metadata'] as string)).toEqual({ name: 'données.bin' });
    expect(req?.bytes.equals(data)).toBe(true);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(data.length);
  });

  it('sends a Readable or an async iterable chunked, without a TTL or metadata when none is given', async () => {
    const client = await clientFor(created);
    const parts = [Buffer.from('hello '), Buffer.from('world')];
    await client.sendFile(PEER, Readable.from(parts));
    await client.sendFile(
      PEER,
      (async function* () {
        yield new Uint8Array([1, 2, 3]);
        yield new Uint8Array([4]);
      })(),
    );
    const [first, second] = server?.requests ?? [];
    expect(first.url).toBe(`/v1/files?to=${encodeURIComponent(PEER)}`);
    expect(first.headers['transfer-encoding']).toBe('chunked');
    expect(first.headers['content-length']).toBeUndefined();
    expect(first.headers['beam-metadata']).toBeUndefined();
    expect(first.body).toBe('hello world');
    expect([...second.bytes]).toEqual([1, 2, 3, 4]);
  });

  it('sends a file path again from its start after a 503 and after a connection cut mid-body', async () => {
    const data = randomBytes(2_000_000);
    const received: Buffer[] = [];
    raw = await rawServer((req, res, n) => {
      if (n === 0) return void req.resume().on('end', () => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"starting"}'));
      if (n === 1) return void req.once('data', () => req.socket.destroy());
      const chunks: Buffer[] = [];
      req
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => {
          received.push(Buffer.concat(chunks));
          created({} as never, res, n);
        });
    });
    await expect(clientOf(raw).sendFile(PEER, tempFile(data))).resolves.toEqual({ id: FILE_ID, expiresAt: EXPIRES });
    expect(received).toHaveLength(1);
    expect(received[0].equals(data)).toBe(true);
  });

  it('does not send a file again when the connection was lost after all of it went out (the proxy may hold it)', async () => {
    const client = await clientFor((_req, res) => hangUp(res));
    await expect(client.sendFile(PEER, tempFile(randomBytes(1000)))).rejects.toMatchObject({ code: expect.stringMatching(/^ECONNRESET|EPIPE$/) as unknown });
    expect(server?.requests).toHaveLength(1);
  });

  it('never sends a stream again once it was read (the bytes are gone): the 503 is the answer', async () => {
    const client = await clientFor((_req, res) => json(res, 503, { error: 'starting' }));
    const err = await client.sendFile(PEER, Readable.from([Buffer.from('once')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamHttpError);
    expect(err).toMatchObject({ status: 503 });
    expect(server?.requests).toHaveLength(1);
  });

  it('retries a refused connection for a stream without reading a byte of it', async () => {
    let read = false;
    const source = (async function* () {
      read = true;
      yield new Uint8Array([1]);
    })();
    const client = new BeamClient(APP, 'k', REFUSING_URL, { retries: 2, retryBaseDelayMs: 1 });
    await expect(client.sendFile(PEER, source)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(read).toBe(false);
  });

  it('takes an answer that comes before the upload is done (413) as the result, without retrying', async () => {
    let requests = 0;
    raw = await rawServer((req, res) => {
      requests++;
      req.once('data', () => {
        const text = JSON.stringify({ error: 'file_too_large', message: 'body: larger than MAX_FILE_SIZE' });
        res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), connection: 'close' }).end(text);
        req.resume();
      });
    });
    const client = clientOf(raw);
    const err = await client.sendFile(PEER, tempFile(randomBytes(4_000_000))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamHttpError);
    expect(err).toMatchObject({ status: 413, code: 'file_too_large' });
    expect(requests).toBe(1);
  });

  it('fails with source_error when the source fails or the path cannot be read, and is not retried', async () => {
    const client = await clientFor(created);
    const failing = new Readable({ read() {} });
    failing.push(Buffer.from('part'));
    setTimeout(() => failing.destroy(new Error('disk on fire')), 20);
    const err = await client.sendFile(PEER, failing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamError);
    expect(err).toMatchObject({ code: 'source_error' });
    expect((err as Error).message).toContain('disk on fire');
    await expect(client.sendFile(PEER, join(tmpdir(), 'no-such-file-beam-client'))).rejects.toMatchObject({ code: 'source_error' });
    expect(server?.requests.length ?? 0).toBeLessThanOrEqual(1);
  });

  it('aborts a running upload with a BeamAbortError', async () => {
    const client = await clientFor(created);
    const controller = new AbortController();
    const endless = new Readable({ read() {} });
    endless.push(Buffer.alloc(1024));
    setTimeout(() => controller.abort(new Error('user cancelled')), 30);
    const err = await client.sendFile(PEER, endless, { signal: controller.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamAbortError);
    expect(endless.destroyed).toBe(true);
  });

  it("destroys the caller's stream when the upload is aborted before the connection is up", async () => {
    const client = await clientFor(created);
    const controller = new AbortController();
    const endless = new Readable({ read() {} });
    const sending = client.sendFile(PEER, endless, { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort(new Error('user cancelled')); // the request is not even connected yet
    expect(await sending).toBeInstanceOf(BeamAbortError);
    expect(endless.destroyed).toBe(true);
  });

  it('checks its arguments before sending anything', async () => {
    const client = await clientFor(created);
    await expect(client.sendFile([], Readable.from([]))).rejects.toThrow(TypeError);
    await expect(client.sendFile(`${PEER},${OTHER}`, Readable.from([]))).rejects.toThrow(TypeError);
    await expect(client.sendFile(PEER, 42 as unknown as string)).rejects.toThrow(TypeError);
    await expect(client.sendFile(PEER, Readable.from([]), { metadata: () => 1 })).rejects.toThrow(TypeError);
    expect(server?.requests).toHaveLength(0);
  });
});

describe('listFiles and deleteFile', () => {
  const listing = [{ id: FILE_ID, from: PEER, to: [APP], size: 42, metadata: { k: 1 }, expiresAt: EXPIRES }];

  it('long-polls the offered files; 206 (the wait ran out) is success too', async () => {
    const client = await clientFor((_req, res) => json(res, 206, listing));
    await expect(client.listFiles({ waitCount: 1, waitTimeMs: 500 })).resolves.toEqual(listing);
    const waitMs = Number(/^\/v1\/files\?wait_count=1&wait_time=(\d+)ms$/.exec(server?.requests[0].url ?? '')?.[1]);
    expect(waitMs).toBeGreaterThan(400);
    expect(waitMs).toBeLessThanOrEqual(500);
  });

  it('deletes; a retry that meets 404 counts as done, a first 404 does not', async () => {
    const client = await clientFor((_req, res, n) => (n === 0 ? hangUp(res) : n === 1 ? json(res, 404, { error: 'not_found' }) : json(res, 404, {})));
    await expect(client.deleteFile(FILE_ID)).resolves.toBeUndefined();
    expect(server?.requests.map((r) => `${r.method} ${r.url}`)).toEqual([`DELETE /v1/files/${FILE_ID}`, `DELETE /v1/files/${FILE_ID}`]);
    await expect(client.deleteFile(FILE_ID)).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });
});
