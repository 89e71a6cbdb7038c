import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListeningLine } from './listening-line';
import { serviceEnv, startHttpService, startService, type ServiceHandle } from './service';

/**
 * A stand-in HTTP app: binds BIND_ADDR, reports the address as Beamline's apps do, answers /v1/health with
 * 503 first and 200 after 300 ms (HEALTHY_AFTER_MS), and crashes with Node's own error when the port is taken.
 */
const FAKE_APP = `
const http = require('node:http');
const [host, port] = process.env.BIND_ADDR.split(':');
const readyAt = Date.now() + Number(process.env.HEALTHY_AFTER_MS ?? 300);
console.log('started', JSON.stringify({ secret: process.env.APP_leak_KEY ?? null, mine: process.env.MINE }));
const server = http.createServer((req, res) => { res.statusCode = Date.now() >= readyAt ? 200 : 503; res.end(); });
server.listen(Number(port), host, () => {
  if (!process.env.SILENT) console.log('listening on http://' + host + ':' + server.address().port);
});
process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
`;

/** Holds a port on 127.0.0.1 (one the OS picked, or `port`) until closed. */
async function holdPort(port = 0): Promise<Server & { port: number }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}

/** Our live child processes (Linux), apart from the `ps` that lists them. */
function childPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, stat, comm]) => pid && !stat?.startsWith('Z') && comm !== 'ps')
    .map(([pid]) => Number(pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startHttpService', () => {
  let dir: string;
  let service: ServiceHandle | undefined;
  const blockers: Server[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'devnet-spec-service-'));
    writeFileSync(join(dir, 'app.js'), FAKE_APP);
    writeFileSync(join(dir, 'crash.js'), `console.error('boom: missing config'); process.exit(3);`);
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
    for (const b of blockers.splice(0)) b.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('binds port 0, reports the port the OS gave it, answers there once healthy, and keeps that port across restart()', async () => {
    process.env.APP_leak_KEY = 'from-the-shell';
    let started;
    try {
      started = await startHttpService({ name: 'fake', script: join(dir, 'app.js'), env: { MINE: 'yes' }, healthPath: '/v1/health' });
    } finally {
      delete process.env.APP_leak_KEY;
    }
    service = started;
    expect(started.port).toBeGreaterThan(0);
    expect(started.url).toBe(`http://127.0.0.1:${started.port}`);
    expect((await fetch(`${started.url}/v1/health`)).status).toBe(200);
    expect(started.recentLogs()).toContain('started {"secret":null,"mine":"yes"}');

    const firstPid = started.pid;
    await started.restart();
    expect(started.pid).not.toBe(firstPid);
    expect(started.url).toBe(`http://127.0.0.1:${started.port}`);
    expect((await fetch(`${started.url}/v1/health`)).status).toBe(200);
    await started.stop();
    expect(started.recentLogs()).toContain('bye');
    await expect(fetch(`${started.url}/v1/health`)).rejects.toThrow();
  });

  it('gives two services started at once two different ports', async () => {
    const [a, b] = await Promise.all([
      startHttpService({ name: 'a', script: join(dir, 'app.js'), env: { HEALTHY_AFTER_MS: '0' } }),
      startHttpService({ name: 'b', script: join(dir, 'app.js'), env: { HEALTHY_AFTER_MS: '0' } }),
    ]);
    try {
      expect(a.port).not.toBe(b.port);
      expect((await fetch(`${a.url}/`)).status).toBe(200);
      expect((await fetch(`${b.url}/`)).status).toBe(200);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('fails a restart clearly when another process took its port while it was down', async () => {
    const started = await startHttpService({ name: 'mover', script: join(dir, 'app.js'), env: {} });
    service = started;
    const { port } = started;
    await started.stop();
    blockers.push(await holdPort(port));
    await expect(started.restart()).rejects.toThrow(
      new RegExp(`mover: cannot restart on 127\\.0\\.0\\.1:${port}, the port it had: another process took it[\\s\\S]*EADDRINUSE`),
    );
    expect(isAlive(started.pid)).toBe(false);
  });

  it('names a fixed port that is in use', async () => {
    const blocker = await holdPort();
    blockers.push(blocker);
    await expect(startHttpService({ name: 'fixed', script: join(dir, 'app.js'), env: {}, port: blocker.port })).rejects.toThrow(
      new RegExp(`fixed: 127\\.0\\.0\\.1:${blocker.port} is in use by another process`),
    );
  });

  it('rejects with the recent logs when the service exits before it is ready', async () => {
    await expect(startHttpService({ name: 'crash', script: join(dir, 'crash.js'), env: {} })).rejects.toThrow(
      /crash exited \(code 3\) before it was ready[\s\S]*boom: missing config/,
    );
  });

  it('rejects when the service never reports its address, leaving no process', async () => {
    const before = new Set(childPids());
    await expect(startHttpService({ name: 'mute', script: join(dir, 'app.js'), env: { SILENT: '1' }, readyTimeoutMs: 1_000 })).rejects.toThrow(
      /mute was not ready after \d+ ms/,
    );
    expect(childPids().filter((pid) => !before.has(pid))).toEqual([]);
  });

  it('rejects when health never turns 200 in time, naming the last answer', async () => {
    await expect(
      startHttpService({ name: 'sick', script: join(dir, 'app.js'), env: { HEALTHY_AFTER_MS: '60000' }, healthPath: '/v1/health', readyTimeoutMs: 1_000 }),
    ).rejects.toThrow(/sick was not ready in time \(http:\/\/127\.0\.0\.1:\d+\/v1\/health answered 503\)/);
  });

  it('refuses BIND_ADDR in env and a port out of range', async () => {
    const script = join(dir, 'app.js');
    await expect(startHttpService({ name: 'x', script, env: { BIND_ADDR: '127.0.0.1:8080' } })).rejects.toThrow(/give the port as `port`/);
    await expect(startHttpService({ name: 'x', script, env: {}, port: 70000 })).rejects.toThrow(/port must be an integer from 0 to 65535, got 70000/);
  });

  it('rejects a script that does not exist, naming the build', async () => {
    await expect(startHttpService({ name: 'x', script: join(dir, 'nope.js'), env: {} })).rejects.toThrow(/npm run build/);
  });
});

describe('startService', () => {
  it('runs a service that does not listen and stops it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devnet-spec-service-'));
    try {
      writeFileSync(join(dir, 'worker.js'), `console.log('working'); setInterval(() => {}, 1000);`);
      const worker = await startService({ name: 'worker', script: join(dir, 'worker.js'), env: {} });
      expect(isAlive(worker.pid)).toBe(true);
      await worker.stop();
      expect(isAlive(worker.pid)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serviceEnv drops APP_*, NATS_URL*, NATS credentials, SESSION_SECRET*, BROKER_* and PROXY_* from the base', () => {
    const env = serviceEnv(
      { NATS_URL: 'nats://mine', APP_a_KEY: 'k' },
      {
        PATH: '/bin',
        APP_x_KEY: 'x',
        NATS_URL: 'n',
        BROKER_URL: 'b',
        PROXY_ID: 'p',
        NATS_SERVER_BIN: '/x',
        NATS_USER: 'u',
        NATS_PASSWORD_FILE: 'f',
        NATS_CREDS: 'c',
        NATS_TLS_CA: 'ca',
        SESSION_SECRET: 's',
        SESSION_SECRET_FILE: 'sf',
      },
    );
    expect(env).toEqual({ PATH: '/bin', NATS_SERVER_BIN: '/x', NATS_URL: 'nats://mine', APP_a_KEY: 'k' });
  });
});

describe('parseListeningLine', () => {
  it('reads the address from the exact line and nothing else', () => {
    expect(parseListeningLine('listening on http://127.0.0.1:43127')).toEqual({ url: 'http://127.0.0.1:43127', host: '127.0.0.1', port: 43127 });
    expect(parseListeningLine('listening on http://[::1]:8081')).toEqual({ url: 'http://[::1]:8081', host: '[::1]', port: 8081 });
    for (const other of [
      '[Nest] 123 - LOG listening on http://127.0.0.1:1',
      'listening on http://127.0.0.1:0',
      'listening on http://127.0.0.1:70000',
      'listening on http://127.0.0.1:80/x',
      'listening on https://127.0.0.1:80',
      '{"level":"info","msg":"[Nest] listening on http://127.0.0.1:1"}',
      '{"level":"info","msg":"{\\"x\\":1}"}',
      '{"level":"info","msg":',
    ]) {
      expect(parseListeningLine(other)).toBeUndefined();
    }
  });

  it('reads it from the message of a JSON log line', () => {
    const line = JSON.stringify({ level: 'info', time: '2026-01-01T00:00:00.000Z', service: 'proxy', msg: 'listening on http://127.0.0.1:43127' });
    expect(parseListeningLine(line)).toEqual({ url: 'http://127.0.0.1:43127', host: '127.0.0.1', port: 43127 });
  });
});
