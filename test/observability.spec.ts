/**
 * Logs and versions over the whole dev network (issue 14): every service writes JSON lines (its stdout is not
 * a terminal), one access line per request whose request id the proxy passes to the broker, refused
 * authentications with their reason, client disconnects at debug, no secret anywhere, and the version in
 * every `/v1/health`, in every start-up line, and in a warning when a proxy runs another version.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawUpgrade } from '@beamline/devnet';
import { beamlineVersion } from '@beamline/http';
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, logEntries, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, signed } from './support/proxy-signer';

let t: TestNetwork;
const logDir = mkdtempSync(join(tmpdir(), 'beamline-obs-logs-'));
const debug = { LOG_LEVEL: 'debug' };
const UPGRADE = { Upgrade: 'tcp', Connection: 'Upgrade' };
const MONITORING_BASIC = `Basic ${Buffer.from(':SuperSecretKey').toString('base64')}`;

beforeAll(async () => {
  t = await startTestNetwork({ logDir, extraEnv: { proxy: debug, 'broker-api': debug, 'broker-store': debug } });
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
  rmSync(logDir, { recursive: true, force: true });
});

const logOf = (service: string): string => readFileSync(join(logDir, `${service}.log`), 'utf8');
const accessLines = (service: string, reqId: string) => logEntries(logOf(service)).filter((e) => e.reqId === reqId && e.route !== undefined);

async function eventually<T>(what: string, get: () => T | undefined): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = get();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`not seen in time: ${what}`);
}

describe('logs', () => {
  it("are JSON lines at the proxy, one access line per request, with the request id matching the broker's line", async () => {
    const task = newTask(APP1, [APP2]);
    const created = await t.app1.request('POST', '/v1/tasks', task, { 'x-request-id': 'obs-create-1' });
    expect(created.status).toBe(201);
    expect(created.headers.get('x-request-id')).toBe('obs-create-1');
    const atProxy = await eventually('proxy access line', () => accessLines('proxy1.broker', 'obs-create-1')[0]);
    expect(atProxy).toMatchObject({ level: 'info', service: 'proxy', method: 'POST', route: '/v1/tasks', status: 201, app: APP1 });
    expect(typeof atProxy.durationMs).toBe('number');
    const atBroker = await eventually('broker access line', () => accessLines('broker-api', 'obs-create-1').find((e) => e.route === '/v1/tasks'));
    expect(atBroker).toMatchObject({ service: 'broker-api', method: 'POST', status: 201, proxy: 'proxy1.broker' });
    expect(accessLines('proxy1.broker', 'obs-create-1')).toHaveLength(1);

    // A request without an id gets one, the same at both ends.
    const todo = await t.app2.get('/v1/tasks?filter=todo');
    const id = todo.headers.get('x-request-id')!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await eventually('broker line of the generated id', () => accessLines('broker-api', id)[0]);
    await eventually('proxy line of the generated id', () => accessLines('proxy2.broker', id)[0]);
    expect(accessLines('proxy2.broker', id)).toHaveLength(1);

    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1]))).status).toBe(201);
    expect((await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=5s`)).status).toBe(200);

    const lines = logOf('proxy1.broker').split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('carry the request id through a direct socket: echoed in both 101s, one access line at each proxy and at the broker', async () => {
    const initiator = rawUpgrade(t.app1.proxyUrl, 'POST', `/v1/sockets/${APP2}`, APP1, { ...UPGRADE, 'x-request-id': 'obs-sock-a' }, t.app1.key);
    const listing = await t.app2.get('/v1/sockets?wait_count=1&wait_time=10s');
    const [offer] = listing.json as { id: string }[];
    const recipient = await rawUpgrade(t.app2.proxyUrl, 'GET', `/v1/sockets/${offer.id}`, APP2, { ...UPGRADE, 'x-request-id': 'obs-sock-b' }, t.app2.key);
    const opened = await initiator;
    try {
      for (const [end, id] of [
        [opened, 'obs-sock-a'],
        [recipient, 'obs-sock-b'],
      ] as const) {
        expect(end.status).toBe(101);
        expect(end.head.split('\r\n')).toContain(`X-Request-Id: ${id}`);
      }
      const route = '/v1/sockets/:id';
      for (const [service, id, who] of [
        ['proxy1.broker', 'obs-sock-a', { app: APP1 }],
        ['proxy2.broker', 'obs-sock-b', { app: APP2 }],
        ['broker-api', 'obs-sock-a', { proxy: 'proxy1.broker' }],
        ['broker-api', 'obs-sock-b', { proxy: 'proxy2.broker' }],
      ] as const) {
        const line = await eventually(`${service} access line of ${id}`, () => accessLines(service, id).find((e) => e.route === route));
        expect(line).toMatchObject({ level: 'info', method: expect.any(String) as string, status: 101, completed: true, ...who });
        expect(accessLines(service, id).filter((e) => e.route === route)).toHaveLength(1);
      }
    } finally {
      opened.socket.destroy();
      recipient.socket.destroy();
    }
  });

  it('log a client that leaves a long-poll at debug, with no error', async () => {
    const aborted = new AbortController();
    const poll = fetch(`${t.app1.proxyUrl}/v1/tasks?filter=todo&wait_count=1&wait_time=20s`, {
      headers: { authorization: `ApiKey ${APP1} App1Secret`, 'x-request-id': 'obs-leave-1' },
      signal: aborted.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    aborted.abort();
    await poll;
    const line = await eventually('access line of the left poll', () => accessLines('proxy1.broker', 'obs-leave-1')[0]);
    expect(line).toMatchObject({ level: 'debug', completed: false });
    await new Promise((r) => setTimeout(r, 300));
    for (const service of ['proxy1.broker', 'broker-api']) {
      const forIt = logEntries(logOf(service)).filter((e) => e.reqId === 'obs-leave-1');
      expect([service, forIt.filter((e) => e.level === 'error' || e.level === 'warn')]).toEqual([service, []]);
    }
  });

  it('log refused authentications with their reason, at the proxy and at the broker', async () => {
    const wrong = await fetch(`${t.app1.proxyUrl}/v1/tasks`, { headers: { authorization: `ApiKey ${APP1} NotTheKey`, 'x-request-id': 'obs-auth-1' } });
    expect(wrong.status).toBe(401);
    const atProxy = await eventually('proxy refusal', () => logEntries(logOf('proxy1.broker')).find((e) => e.reqId === 'obs-auth-1' && e.reason));
    expect(atProxy).toMatchObject({ level: 'warn', reason: 'unauthenticated' });

    const replayed = await signed(proxySigner(t.net, 0), { method: 'GET', pathAndQuery: '/v1/tasks?filter=todo' });
    for (const reqId of ['obs-auth-2', 'obs-auth-3'])
      await fetch(t.net.brokerUrl + replayed.pathAndQuery, { headers: { authorization: replayed.authorization, 'x-request-id': reqId } });
    const atBroker = await eventually('broker refusal', () => logEntries(logOf('broker-api')).find((e) => e.reqId === 'obs-auth-3' && e.reason));
    expect(atBroker).toMatchObject({ level: 'warn', reason: 'replayed' });
  });

  it('never hold the app key, the monitoring key, the session secret or an Authorization value', async () => {
    expect((await fetch(`${t.net.brokerUrl}/v1/health/proxies`, { headers: { authorization: MONITORING_BASIC } })).status).toBe(200);
    const all = readdirSync(logDir)
      .map((f) => readFileSync(join(logDir, f), 'utf8'))
      .join('\n');
    expect(all.length).toBeGreaterThan(10_000);
    expect(all).toMatch(/"level":"debug"/);
    for (const secret of ['App1Secret', 'SuperSecretKey', MONITORING_BASIC.slice(6), t.net.sessionSecret, 'NotTheKey']) expect(all).not.toContain(secret);
    expect(all).not.toMatch(/Beamline(Mac|Sig) [A-Za-z0-9]/);
    expect(all).not.toMatch(/ApiKey app/);
  });
});

describe('versions', () => {
  it("are package.json's, in every /v1/health and every start-up line", async () => {
    const version = beamlineVersion();
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    for (const base of [t.net.proxies[0].url, t.net.brokerUrl, t.net.brokerStoreUrls[0]]) {
      const health = (await (await fetch(`${base}/v1/health`)).json()) as { version?: string };
      expect([base, health.version]).toEqual([base, version]);
    }
    for (const service of ['proxy1.broker', 'broker-api', 'broker-store']) {
      const first = logEntries(logOf(service))[0];
      expect([service, first?.version, first?.msg]).toEqual([
        service,
        version,
        expect.stringMatching(new RegExp(`^[a-z-]+ ${version.replace(/\./g, '\\.')} starting$`)),
      ]);
    }
  });

  it('warn at the broker when a proxy runs another version, once', async () => {
    for (let i = 0; i < 2; i++) {
      const req = await signed(proxySigner(t.net, 1), { method: 'POST', pathAndQuery: '/v1/sessions' });
      const res = await fetch(t.net.brokerUrl + req.pathAndQuery, {
        method: 'POST',
        headers: { authorization: req.authorization, 'beamline-version': '0.0.1-old' },
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('beamline-version')).toBe(beamlineVersion());
      await res.body?.cancel();
    }
    const warned = await eventually('version warning', () => {
      const found = logEntries(logOf('broker-api')).filter((e) => e.context === 'Version');
      return found.length > 0 ? found : undefined;
    });
    expect(warned).toEqual([expect.objectContaining({ level: 'warn', peer: 'proxy proxy2.broker', peerVersion: '0.0.1-old', version: beamlineVersion() })]);
  });
});
