/**
 * A hospital site whose only way out is its HTTP proxy: the site proxies' BROKER_URL names `broker.invalid`,
 * a host only a real squid (its own hosts file) can resolve, so every byte to the broker (requests,
 * long-polls, SSE, the control connection, direct sockets) must go through squid's CONNECT tunnels.
 */
import { join, resolve } from 'node:path';
import { startHttpService, type HttpServiceHandle } from '@beamline/devnet';
import { newResult, newTask } from './support/app-client';
import { startSquid, type Middlebox } from './support/middlebox';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { openSocketPair } from './support/socket-pair';
import { openSse } from './support/sse-client';
import { readExactly } from '@beamline/devnet';

const PROXY_MAIN = join(resolve(__dirname, '..'), 'dist', 'apps', 'proxy', 'src', 'main.js');
const ONLY_SQUID_KNOWS = 'broker.invalid';

let squid: Middlebox;
let t: TestNetwork;
let brokerPort: string;
const extras: HttpServiceHandle[] = [];

beforeAll(async () => {
  squid = await startSquid({ [ONLY_SQUID_KNOWS]: '127.0.0.1' });
  t = await startTestNetwork({
    brokerFront: ([replica]) => {
      brokerPort = new URL(replica).port;
      return Promise.resolve({ url: `http://${ONLY_SQUID_KNOWS}:${brokerPort}`, close: () => undefined });
    },
    // ALL_PROXY alone: the variable undici's EnvHttpProxyAgent does not read.
    extraEnv: { proxy: { ALL_PROXY: `http://127.0.0.1:${squid.port}` } },
  });
}, 120_000);

afterAll(async () => {
  for (const extra of extras) await extra.stop();
  await t?.net.stop();
  await squid?.stop();
});

/** Another process of proxy1 (same key and apps), reaching the broker only as `env` lets it. */
function proxy1With(env: Record<string, string>, readyTimeoutMs?: number): Promise<HttpServiceHandle> {
  return startHttpService({
    name: 'proxy1-extra',
    script: PROXY_MAIN,
    env: {
      BROKER_URL: t.net.brokerUrl,
      PROXY_ID: 'proxy1.broker',
      PRIVKEY_FILE: t.net.pki.proxies[0].keyFile,
      ROOTCERT_FILE: t.net.pki.rootCertFile,
      APP_app1_KEY: 'App1Secret',
      ...env,
    },
    healthPath: '/v1/health',
    readyTimeoutMs,
  }).then((proxy) => {
    extras.push(proxy);
    return proxy;
  });
}

describe('a site proxy whose only way to the broker is squid', () => {
  it('cannot reach the broker without the proxy variables: the name does not resolve here', async () => {
    await expect(proxy1With({ BROKER_RETRY_BUDGET: '1s' }, 5_000)).rejects.toThrow(/ENOTFOUND|EAI_AGAIN/);
  });

  it('becomes healthy through it, and says so at start-up without the credentials', async () => {
    const health = await fetch(`${t.net.proxies[0].url}/v1/health`);
    expect(health.status).toBe(200);
    const log = t.net.services.get('proxy1.broker')?.recentLogs() ?? '';
    expect(log).toContain(`broker http://${ONLY_SQUID_KNOWS}:${brokerPort} reached through HTTP proxy http://127.0.0.1:${squid.port} (ALL_PROXY, CONNECT)`);
    const withCredentials = await proxy1With({ http_proxy: `http://site:s3cret@127.0.0.1:${squid.port}` });
    expect(withCredentials.recentLogs()).toContain(`through HTTP proxy http://127.0.0.1:${squid.port} (with credentials) (HTTP_PROXY, CONNECT)`);
    expect(withCredentials.recentLogs()).not.toContain('s3cret');
  });

  it('completes a task cycle through it', async () => {
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    const todo = await t.app2.get('/v1/tasks?filter=todo&wait_count=1&wait_time=10s');
    expect(todo.json).toEqual([expect.objectContaining({ id: task.id, body: task.body })]);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'answer via squid' }))).status).toBe(201);
    const results = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=10s`);
    expect(results.json).toEqual([expect.objectContaining({ from: APP2, body: 'answer via squid' })]);
  });

  it('streams results as Server-Sent Events through it', async () => {
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    const sse = await openSse(`${t.app1.proxyUrl}/v1/tasks/${task.id}/results?wait_count=1&wait_time=20s`, `ApiKey ${APP1} App1Secret`);
    try {
      expect(sse.status).toBe(200);
      expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'streamed via squid' }))).status).toBe(201);
      const [event] = await sse.waitForEvents(1);
      expect(JSON.parse(event.data)).toMatchObject({ from: APP2, body: 'streamed via squid' });
    } finally {
      sse.close();
    }
  });

  it('holds its control connection through it: the broker sees both proxies connected', async () => {
    const monitoring = { authorization: `Basic ${Buffer.from(':SuperSecretKey').toString('base64')}` };
    for (const proxy of t.net.proxies) {
      const deadline = Date.now() + 15_000;
      let status: unknown;
      for (;;) {
        const res = await fetch(`${t.net.brokerApiUrls[0]}/v1/health/proxies/${proxy.id}`, { headers: monitoring });
        status = res.status === 200 ? await res.json() : res.status;
        if (res.status === 200 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toMatchObject({ status: 'connected' });
    }
  });

  it('carries a direct socket through it, both ways', async () => {
    const pair = await openSocketPair(t.app1, t.app2);
    pair.initiator.write('ping through squid');
    expect((await readExactly(pair.recipient, 18)).toString()).toBe('ping through squid');
    pair.recipient.write('pong');
    expect((await readExactly(pair.initiator, 4)).toString()).toBe('pong');
    pair.initiator.destroy();
    pair.recipient.destroy();
  });

  it("shows all of it in squid's access log: CONNECT tunnels to the broker's name, from every proxy process", async () => {
    // squid writes a tunnel's line when it closes: stop the site proxies (which closes theirs) first.
    for (const extra of extras.splice(0)) await extra.stop();
    for (const proxy of t.net.proxies) await t.net.services.get(proxy.id)?.stop();
    const deadline = Date.now() + 10_000;
    const tunnels = (): string[] =>
      squid
        .accessLog()
        .split('\n')
        .filter((line) => line.includes(`CONNECT ${ONLY_SQUID_KNOWS}:${brokerPort}`));
    while (tunnels().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    if (tunnels().length < 4) throw new Error(`squid's access log:\n${squid.accessLog()}\n${dumpLogs(t.net)}`);
    // Each line: time, elapsed, client, code/status, bytes, method, authority, ...
    const bytes = tunnels().reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[4]), 0);
    expect(tunnels().every((line) => /TCP_TUNNEL\/200/.test(line))).toBe(true);
    expect(bytes).toBeGreaterThan(10_000);
  });
});
