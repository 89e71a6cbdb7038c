import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import { serviceEnv, startService, type ServiceHandle } from './service';

/** A stand-in app: prints its env, answers /v1/health with 503 first and 200 after 300 ms. */
const FAKE_APP = `
const http = require('node:http');
const [host, port] = process.env.BIND_ADDR.split(':');
const readyAt = Date.now() + 300;
console.log('started', JSON.stringify({ secret: process.env.APP_leak_KEY ?? null, mine: process.env.MINE }));
http.createServer((req, res) => { res.statusCode = Date.now() >= readyAt ? 200 : 503; res.end(); })
  .listen(Number(port), host);
process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
`;

describe('startService', () => {
  let dir: string;
  let service: ServiceHandle | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'devnet-spec-service-'));
    writeFileSync(join(dir, 'app.js'), FAKE_APP);
    writeFileSync(join(dir, 'crash.js'), `console.error('boom: missing config'); process.exit(3);`);
  });
  afterEach(async () => {
    await service?.stop();
    service = undefined;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('waits for health 200, hides inherited app variables, keeps logs, stops and restarts', async () => {
    const port = await freePort();
    process.env.APP_leak_KEY = 'from-the-shell';
    try {
      service = await startService({
        name: 'fake',
        script: join(dir, 'app.js'),
        env: { BIND_ADDR: `127.0.0.1:${port}`, MINE: 'yes' },
        healthUrl: `http://127.0.0.1:${port}/v1/health`,
      });
    } finally {
      delete process.env.APP_leak_KEY;
    }
    expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).status).toBe(200);
    expect(service.recentLogs()).toContain('started {"secret":null,"mine":"yes"}');
    const firstPid = service.pid;
    await service.restart();
    expect(service.pid).not.toBe(firstPid);
    expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).status).toBe(200);
    await service.stop();
    expect(service.recentLogs()).toContain('bye');
    await expect(fetch(`http://127.0.0.1:${port}/v1/health`)).rejects.toThrow();
  });

  it('rejects with the recent logs when the service exits before it is ready', async () => {
    const port = await freePort();
    await expect(
      startService({ name: 'crash', script: join(dir, 'crash.js'), env: {}, healthUrl: `http://127.0.0.1:${port}/` }),
    ).rejects.toThrow(/crash exited \(code 3\)[\s\S]*boom: missing config/);
  });

  it('rejects when health never turns 200 in time, leaving no process', async () => {
    const port = await freePort();
    const other = await freePort();
    await expect(
      startService({
        name: 'deaf',
        script: join(dir, 'app.js'),
        env: { BIND_ADDR: `127.0.0.1:${port}` },
        healthUrl: `http://127.0.0.1:${other}/`,
        readyTimeoutMs: 500,
      }),
    ).rejects.toThrow(/deaf was not ready in time/);
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
  });

  it('rejects a script that does not exist, naming the build', async () => {
    await expect(startService({ name: 'x', script: join(dir, 'nope.js'), env: {} })).rejects.toThrow(/npm run build/);
  });

  it('serviceEnv drops APP_*, NATS_URL*, BROKER_* and PROXY_* from the base', () => {
    const env = serviceEnv(
      { NATS_URL: 'nats://mine', APP_a_KEY: 'k' },
      { PATH: '/bin', APP_x_KEY: 'x', NATS_URL: 'n', BROKER_URL: 'b', PROXY_ID: 'p', NATS_SERVER_BIN: '/x' },
    );
    expect(env).toEqual({ PATH: '/bin', NATS_SERVER_BIN: '/x', NATS_URL: 'nats://mine', APP_a_KEY: 'k' });
  });
});
