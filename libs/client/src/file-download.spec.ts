import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { BeamClient } from './client';
import { BeamAbortError, BeamError, BeamHttpError } from './errors';
import { eventually, json, startLocalServer, type LocalServer, type RecordedRequest } from './testing/local-server';

const APP = 'app2.proxy2.broker';
const FILE_ID = '5b8f2d4e-3c1a-4f6b-9e7d-2a1c0b9f8e7d';
const PATH = `/v1/files/${FILE_ID}`;

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/**
 * The proxy's download route over `data`: `Range: bytes=N-` answers 206 from N. `cutAt(n)` (request n) is
 * the byte after which the answer is cut short, as the proxy cuts a file that failed its check; `stallAt`
 * answers up to that byte and then nothing more.
 */
function fileRoute(data: Buffer, cutAt: (n: number) => number | undefined = () => undefined, stallAt?: number) {
  return (req: RecordedRequest, res: ServerResponse, n: number): void => {
    if (req.url !== PATH) return json(res, 404, { error: 'not_found', message: 'no such file' });
    const start = Number(/^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''))?.[1] ?? 0);
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(data.length - start),
      'beam-metadata': JSON.stringify({ name: 'data.bin' }),
    };
    if (start > 0) headers['content-range'] = `bytes ${start}-${data.length - 1}/${data.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    const cut = cutAt(n);
    if (stallAt !== undefined) return void res.write(data.subarray(start, stallAt));
    if (cut === undefined) return void res.end(data.subarray(start));
    res.write(data.subarray(start, Math.max(start, cut)), () => res.socket?.destroy());
  };
}

async function clientFor(handler: (req: RecordedRequest, res: ServerResponse, n: number) => void, retries = 3): Promise<BeamClient> {
  server = await startLocalServer(handler);
  return new BeamClient(APP, 'App2Secret', server.url, { retries, retryBaseDelayMs: 1, retryMaxDelayMs: 5 });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('downloadFile', () => {
  const data = randomBytes(1_000_000);

  it('streams the whole file, with its size and metadata', async () => {
    const client = await clientFor(fileRoute(data));
    const download = await client.downloadFile(FILE_ID);
    expect(download).toMatchObject({ id: FILE_ID, offset: 0, size: data.length, metadata: { name: 'data.bin' } });
    expect((await readAll(download)).equals(data)).toBe(true);
    expect(download.bytesReceived).toBe(data.length);
    expect(server?.requests[0].headers.range).toBeUndefined();
    expect(server?.requests[0].headers.authorization).toBe(`ApiKey ${APP} App2Secret`);
  });

  it('asks for the bytes from an offset with Range and streams them', async () => {
    const client = await clientFor(fileRoute(data));
    const download = await client.downloadFile(FILE_ID, { offset: 400_000 });
    expect(server?.requests[0].headers.range).toBe('bytes=400000-');
    expect(download).toMatchObject({ offset: 400_000, size: data.length });
    expect((await readAll(download)).equals(data.subarray(400_000))).toBe(true);
  });

  it('resumes after a cut connection from the first missing byte and yields every byte once', async () => {
    const client = await clientFor(fileRoute(data, (n) => (n === 0 ? 300_000 : n === 1 ? 700_000 : undefined)));
    const download = await client.downloadFile(FILE_ID);
    expect((await readAll(download)).equals(data)).toBe(true);
    const ranges = server?.requests.map((r) => r.headers.range);
    expect(ranges).toHaveLength(3);
    expect(ranges?.[0]).toBeUndefined();
    // Each resume starts where the cut left the client: at most the cut (bytes in flight at the cut may be
    // lost), past what the previous resume started at. The whole file arriving equal proves no byte twice.
    const starts = ranges?.slice(1).map((r) => Number(/^bytes=(\d+)-$/.exec(r ?? '')?.[1])) ?? [];
    expect(starts[0]).toBeGreaterThan(0);
    expect(starts[0]).toBeLessThanOrEqual(300_000);
    expect(starts[1]).toBeGreaterThan(starts[0]);
    expect(starts[1]).toBeLessThanOrEqual(700_000);
  });

  it('resumes through a 503 (the proxy has no broker for a moment) after the cut', async () => {
    const route = fileRoute(data, (n) => (n === 0 ? 600_000 : undefined));
    const client = await clientFor((req, res, n) => (n === 1 ? json(res, 503, { error: 'broker_unavailable' }) : route(req, res, n)));
    expect((await readAll(await client.downloadFile(FILE_ID))).equals(data)).toBe(true);
    const ranges = server?.requests.map((r) => r.headers.range) ?? [];
    expect(ranges).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/), ranges[1]]);
  });

  it('fails with truncated, never a clean end, when the body stays short (a tampered file) and the retries are spent', async () => {
    const client = await clientFor(
      fileRoute(data, () => 500_000),
      2,
    );
    const download = await client.downloadFile(FILE_ID);
    const err = await readAll(download).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamError);
    expect(err).toMatchObject({ code: 'truncated' });
    expect((err as Error).message).toMatch(/the download stopped at byte \d+ of 1000000/);
    expect(download.bytesReceived).toBeLessThanOrEqual(500_000);
    // The first answer, then resumes until two in a row got no further (a resume may first fetch bytes that
    // were in flight at the cut; one that brings bytes resets the count).
    expect(server?.requests.length).toBeGreaterThanOrEqual(3);
  });

  it('fails with truncated at once without retries', async () => {
    const client = await clientFor(
      fileRoute(data, () => 10_000),
      0,
    );
    const download = await client.downloadFile(FILE_ID);
    await expect(readAll(download)).rejects.toMatchObject({ code: 'truncated' });
    expect(server?.requests).toHaveLength(1);
  });

  it('fails with truncated when the file is gone by the resume (404), citing the 404', async () => {
    const client = await clientFor((req, res, n) => (n === 0 ? fileRoute(data, () => 100_000)(req, res, n) : json(res, 404, { error: 'not_found' })));
    const err = await readAll(await client.downloadFile(FILE_ID)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'truncated' });
    expect((err as BeamError).cause).toBeInstanceOf(BeamHttpError);
    expect((err as BeamError).cause).toMatchObject({ status: 404 });
  });

  it('rejects with a BeamHttpError when the file is not there (404), and retries a 503 first', async () => {
    const client = await clientFor((_req, res, n) =>
      n === 0 ? json(res, 503, { error: 'starting' }) : json(res, 404, { error: 'not_found', message: 'no file' }),
    );
    const err = await client.downloadFile(FILE_ID).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamHttpError);
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
    expect(server?.requests).toHaveLength(2);
  });

  it('refuses an answer that does not start at the offset asked for', async () => {
    const client = await clientFor((_req, res) => res.writeHead(200, { 'content-length': '3' }).end('abc'));
    await expect(client.downloadFile(FILE_ID, { offset: 1 })).rejects.toMatchObject({ code: 'invalid_response' });
    await expect(client.downloadFile(FILE_ID, { offset: -1 })).rejects.toThrow(RangeError);
  });

  it('aborts a running download: the stream fails with a BeamAbortError and the connection closes', async () => {
    const controller = new AbortController();
    const client = await clientFor(fileRoute(data, undefined, 200_000));
    const download = await client.downloadFile(FILE_ID, { signal: controller.signal });
    const reading = readAll(download).catch((e: unknown) => e);
    await eventually(() => download.bytesReceived > 0);
    controller.abort(new Error('user cancelled'));
    expect(await reading).toBeInstanceOf(BeamAbortError);
    await eventually(() => (server?.closedConnections() ?? 0) >= 1);
  });

  it('closes the connection when the stream is destroyed before it was read', async () => {
    const client = await clientFor(fileRoute(data, undefined, 200_000));
    const download = await client.downloadFile(FILE_ID);
    download.destroy();
    await eventually(() => (server?.closedConnections() ?? 0) >= 1);
  });

  it('handles an empty file and an offset at the end', async () => {
    const client = await clientFor(fileRoute(Buffer.alloc(0)));
    expect((await readAll(await client.downloadFile(FILE_ID))).length).toBe(0);
    await server?.close();
    const small = Buffer.from('hello');
    const again = await clientFor(fileRoute(small));
    const atEnd = await again.downloadFile(FILE_ID, { offset: 5 });
    expect(atEnd.size).toBe(5);
    expect((await readAll(atEnd)).length).toBe(0);
  });
});
