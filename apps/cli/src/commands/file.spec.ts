import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../command';
import { runCli } from '../cli';
import type { FileDeps } from './file-common';
import { fileCommandWith } from './file';

// jest.config.js's moduleNameMapper does not list @beamline/client (yet): resolve it the way tsconfig.json's paths do.
jest.mock('@beamline/client', () => jest.requireActual('../../../../libs/client/src'), { virtual: true });

const APP1 = 'app1.proxy1.broker';
const APP2 = 'app2.proxy2.broker';
const KEY = 'App1Secret';

interface StoredFile {
  id: string;
  from: string;
  to: string[];
  ttl: string | null;
  metadata: unknown;
  bytes: Buffer;
}

/** The proxy's file routes, in memory: enough of apps/proxy/src/files/files.controller.ts for the CLI. */
class FakeProxy {
  readonly files: StoredFile[] = [];
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];
  /** Cuts the next download after this many bytes (the proxy cutting a part that failed its check). */
  cutNextDownloadAt: number | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    const auth = /^ApiKey (\S+) (\S+)$/.exec(req.headers.authorization ?? '');
    if (!auth || auth[2] !== KEY) return json(res, 401, { error: 'unauthorized' });
    const caller = auth[1];
    const id = /^\/v1\/files\/([^/]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'POST' && url.pathname === '/v1/files') return this.upload(req, res, caller, url);
    if (req.method === 'GET' && url.pathname === '/v1/files') {
      const mine = this.files.filter((f) => f.to.includes(caller));
      return json(
        res,
        200,
        mine.map((f) => ({ id: f.id, from: f.from, to: f.to, size: f.bytes.length, metadata: f.metadata, expiresAt: '2030-01-01T00:00:00.000Z' })),
      );
    }
    const file = this.files.find((f) => f.id === id && f.to.includes(caller));
    if (!file) return json(res, 404, { error: 'not_found', message: 'no such file' });
    if (req.method === 'DELETE') return void res.writeHead(204).end();
    this.download(req, res, file);
  }

  private async upload(req: IncomingMessage, res: ServerResponse, caller: string, url: URL): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const header = req.headers['beam-metadata'];
    const file = {
      id: randomUUID(),
      from: caller,
      to: (url.searchParams.get('to') ?? '').split(','),
      ttl: url.searchParams.get('ttl'),
      metadata: typeof header === 'string' ? (JSON.parse(header) as unknown) : null,
      bytes: Buffer.concat(chunks),
    };
    this.files.push(file);
    json(res, 201, { id: file.id, expiresAt: '2030-01-01T00:00:00.000Z' }, { location: `/v1/files/${file.id}` });
  }

  private download(req: IncomingMessage, res: ServerResponse, file: StoredFile): void {
    const start = Number(/^bytes=(\d+)-$/.exec(req.headers.range ?? '')?.[1] ?? 0);
    const size = file.bytes.length;
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(size - start),
      'beam-metadata': JSON.stringify(file.metadata),
    };
    if (start > 0) headers['content-range'] = `bytes ${start}-${size - 1}/${size}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    const cut = this.cutNextDownloadAt;
    if (cut === undefined) return void res.end(file.bytes.subarray(start));
    this.cutNextDownloadAt = undefined;
    res.write(file.bytes.subarray(start, Math.max(start, cut)), () => res.socket?.destroy());
  }
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text);
}

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

let proxy: FakeProxy;
let dir: string;
beforeEach(async () => {
  proxy = new FakeProxy();
  await proxy.start();
  dir = mkdtempSync(join(tmpdir(), 'beamline-file-'));
});
afterEach(() => proxy.stop());

/** The process around a command: the app's variables, a stdout to collect, a stderr that may be a terminal. */
function depsFor(app: string, opts: { tty?: boolean; stdin?: Readable } = {}): FileDeps & { binary: () => Buffer; progress: () => string } {
  const stdout = new PassThrough();
  const out: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  let progress = '';
  return {
    env: { BEAMLINE_DEMO_ENV: '', BEAM_PROXY_URL: proxy.url, BEAM_APP_ID: app, BEAM_APP_KEY: KEY },
    stdin: opts.stdin ?? Readable.from([]),
    stdout,
    stderr: { isTTY: opts.tty ?? false, write: (t: string) => void (progress += t) },
    progressIntervalMs: 0,
    binary: () => Buffer.concat(out),
    progress: () => progress,
  };
}

async function file(deps: FileDeps, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = capture();
  const code = await fileCommandWith(deps).run(args, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

describe('beamline file', () => {
  it('is listed by beamline --help, and its help documents the subcommands and the BEAM_* variables', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout).toMatch(/\n {2}file +send, list and receive files/);
    const help = capture();
    expect(await runCli(['file', '--help'], help)).toBe(0);
    for (const sub of ['send', 'list', 'receive']) expect(help.stdout).toMatch(new RegExp(`\n  ${sub} `));
    for (const args of [['send'], ['list'], ['receive']]) {
      const sub = capture();
      expect(await runCli(['file', ...args, '--help'], sub)).toBe(0);
      for (const name of ['BEAM_PROXY_URL', 'BEAM_APP_ID', 'BEAM_APP_KEY', '--proxy-url', '--app-id', '--app-key']) expect(sub.stdout).toContain(name);
    }
  });

  it('sends a file (id on stdout), lists it at the recipient and receives it byte for byte', async () => {
    const data = randomBytes(700_000);
    const path = join(dir, 'scan.bin');
    writeFileSync(path, data);
    const sent = await file(depsFor(APP1), 'send', path, '--to', APP2, '--ttl', '2d', '--metadata', '{"name":"scan.bin"}');
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const id = sent.stdout.trim();
    expect(proxy.files[0]).toMatchObject({ id, from: APP1, to: [APP2], ttl: '2d', metadata: { name: 'scan.bin' } });
    expect(proxy.files[0].bytes.equals(data)).toBe(true);
    expect(proxy.requests[0].headers['content-length']).toBe(String(data.length));

    const listed = await file(depsFor(APP2), 'list');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      new RegExp(`^ID +FROM +SIZE +EXPIRES +METADATA\n${id}  ${APP1}  683\\.6 KiB  2030-01-01T00:00:00\\.000Z  \\{"name":"scan\\.bin"\\}\n$`),
    );
    const asJson = await file(depsFor(APP2), 'list', '--json', '--wait-count', '1', '--wait-time', '2s');
    expect(JSON.parse(asJson.stdout)).toEqual([expect.objectContaining({ id, from: APP1, size: data.length })]);
    expect(proxy.requests.at(-1)?.url).toMatch(/^\/v1\/files\?wait_count=1&wait_time=\d+ms$/);

    const out = join(dir, 'received.bin');
    const received = await file(depsFor(APP2), 'receive', id, '--out', out);
    expect(received).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(out).equals(data)).toBe(true);
  });

  it('receives to stdout, and from an offset onto a partial copy (Range), keeping its first bytes', async () => {
    const data = randomBytes(300_000);
    proxy.files.push({ id: randomUUID(), from: APP1, to: [APP2], ttl: null, metadata: null, bytes: data });
    const { id } = proxy.files[0];
    const deps = depsFor(APP2);
    expect((await file(deps, 'receive', id)).code).toBe(0);
    expect(deps.binary().equals(data)).toBe(true);

    const out = join(dir, 'partial.bin');
    writeFileSync(out, Buffer.concat([data.subarray(0, 100_000), Buffer.from('garbage after the good part')]));
    expect((await file(depsFor(APP2), 'receive', id, '--out', out, '--offset', '100000')).code).toBe(0);
    expect(proxy.requests.at(-1)?.headers.range).toBe('bytes=100000-');
    expect(readFileSync(out).equals(data)).toBe(true);
  });

  it('sends standard input with "-" (chunked)', async () => {
    const stdin = Readable.from([Buffer.from('from '), Buffer.from('stdin')]);
    const sent = await file(depsFor(APP1, { stdin }), 'send', '-', '--to', `${APP2},app3.proxy3.broker`);
    expect(sent.code).toBe(0);
    expect(proxy.files[0].bytes.toString()).toBe('from stdin');
    expect(proxy.files[0].to).toEqual([APP2, 'app3.proxy3.broker']);
    expect(proxy.requests[0].headers['transfer-encoding']).toBe('chunked');
  });

  it('draws a progress line on a terminal and clears it, and writes nothing to stderr otherwise', async () => {
    const path = join(dir, 'big.bin');
    writeFileSync(path, randomBytes(2_000_000));
    const tty = depsFor(APP1, { tty: true });
    expect((await file(tty, 'send', path, '--to', APP2)).code).toBe(0);
    expect(tty.progress()).toMatch(/^\rsending .*big\.bin: [\d.]+ (B|KiB|MiB) of 1\.9 MiB \(\d+%\), [\d.]+ (B|KiB|MiB)\/s\x1b\[K/);
    expect(tty.progress().endsWith('\r\x1b[K')).toBe(true);
    const pipe = depsFor(APP1);
    expect((await file(pipe, 'send', path, '--to', APP2)).code).toBe(0);
    expect(pipe.progress()).toBe('');
  });

  it('resumes a download the proxy cut short', async () => {
    const data = randomBytes(500_000);
    proxy.files.push({ id: randomUUID(), from: APP1, to: [APP2], ttl: null, metadata: null, bytes: data });
    proxy.cutNextDownloadAt = 200_000;
    const out = join(dir, 'resumed.bin');
    expect((await file(depsFor(APP2), 'receive', proxy.files[0].id, '--out', out)).code).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    const ranges = proxy.requests.map((r) => r.headers.range);
    expect(ranges).toEqual([undefined, expect.stringMatching(/^bytes=\d+-$/)]);
    // From the first byte the client is missing: what arrived before the cut (bytes still in flight may be lost).
    expect(Number(/\d+/.exec(ranges[1] ?? '')?.[0])).toBeLessThanOrEqual(200_000);
  });

  it('fails (exit 1) on a 404 and on refused arguments with exit 2 and one line', async () => {
    const missing = await file(depsFor(APP2), 'receive', randomUUID(), '--out', join(dir, 'x'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^beamline file receive: GET \/v1\/files\/[0-9a-f-]+: 404 not_found: no such file\n$/);
    const noUrl = await file({ ...depsFor(APP1), env: { BEAMLINE_DEMO_ENV: '' } }, 'list');
    expect(noUrl).toMatchObject({ code: 2, stderr: expect.stringContaining('--proxy-url is required (or $BEAM_PROXY_URL)') as unknown });
    expect((await file(depsFor(APP1), 'send', join(dir, 'nope'), '--to', APP2)).code).toBe(2);
    expect((await file(depsFor(APP1), 'send', join(dir, 'nope'))).stderr).toContain('--to is required');
    expect((await file(depsFor(APP1), 'list', '--wait-time', 'soon')).stderr).toContain('--wait-time must be a duration');
    expect((await file(depsFor(APP1), 'send', '-', '--to', APP2, '--metadata', '{bad')).stderr).toContain('--metadata must be JSON');
    expect((await file(depsFor(APP2), 'receive', randomUUID(), '--out', join(dir, 'absent'), '--offset', '5')).stderr).toContain(
      'does not hold the first 5 bytes',
    );
    const ttyOut = depsFor(APP2);
    ttyOut.stdout.isTTY = true;
    expect((await file(ttyOut, 'receive', randomUUID())).stderr).toContain('stdout is a terminal');
    expect(proxy.requests).toHaveLength(1);
  });
});
