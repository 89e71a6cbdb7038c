/**
 * A broker behind a TLS-terminating reverse proxy (a real nginx, README's configuration) with a private CA, in
 * front of two broker-api replicas: the site proxies trust that CA through `TLS_CA_CERTIFICATES_DIR` only, and
 * long-polls, SSE and direct-socket upgrades pass through nginx to both replicas. Last, a site that has both: its
 * HTTP proxy (squid, which alone resolves the front's name) and TLS to the front inside the CONNECT tunnel.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeNatsTls, readExactly, startHttpService, type HttpServiceHandle, type NatsTlsFiles } from '@beamline/devnet';
import { AppClient, newResult, newTask } from './support/app-client';
import { startNginxFront, startSquid, type Middlebox } from './support/middlebox';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { openSocketPair } from './support/socket-pair';
import { openSse } from './support/sse-client';

const PROXY_MAIN = join(resolve(__dirname, '..'), 'dist', 'apps', 'proxy', 'src', 'main.js');
/** The front's name in its certificate, which only squid resolves (the last test). */
const BROKER_NAME = 'broker.invalid';

let dir: string;
let tls: NatsTlsFiles;
/** Holds the front's CA certificate and nothing else. */
let trustedDir: string;
let nginx: Middlebox | undefined;
let squid: Middlebox | undefined;
let t: TestNetwork;
const extras: HttpServiceHandle[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'beamline-egress-tls-'));
  tls = makeNatsTls(join(dir, 'front-ca'), { hosts: [BROKER_NAME] });
  trustedDir = join(dir, 'trusted');
  mkdirSync(trustedDir);
  copyFileSync(tls.caCertFile, join(trustedDir, 'middlebox-ca.pem'));
  t = await startTestNetwork({
    brokerApiReplicas: 2,
    brokerFront: async (upstreams) => {
      const front = await startNginxFront({ upstreams, certFile: tls.serverCertFile, keyFile: tls.serverKeyFile });
      nginx = front;
      return { url: `https://127.0.0.1:${front.port}`, close: () => front.stop() };
    },
    extraEnv: { proxy: { TLS_CA_CERTIFICATES_DIR: trustedDir } },
  });
}, 120_000);

afterAll(async () => {
  for (const extra of extras) await extra.stop();
  await t?.net.stop();
  await squid?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Another process of proxy1 (same key, app1), configured by `env`; its retries give up after a second. */
function proxy1With(env: Record<string, string>, readyTimeoutMs?: number): Promise<HttpServiceHandle> {
  return startHttpService({
    name: 'proxy1-extra',
    script: PROXY_MAIN,
    env: {
      PROXY_ID: 'proxy1.broker',
      PRIVKEY_FILE: t.net.pki.proxies[0].keyFile,
      ROOTCERT_FILE: t.net.pki.rootCertFile,
      APP_app1_KEY: 'App1Secret',
      BROKER_RETRY_BUDGET: '1s',
      ...env,
    },
    healthPath: '/v1/health',
    readyTimeoutMs,
  });
}

function front(): Middlebox {
  if (!nginx) throw new Error('nginx did not start');
  return nginx;
}

describe('a site proxy behind a TLS front with a private CA (nginx, two broker-api replicas)', () => {
  it('refuses the front without TLS_CA_CERTIFICATES_DIR: its certificate does not chain to a CA Node knows', async () => {
    const untrusting = proxy1With({ BROKER_URL: t.net.brokerUrl }, 5_000);
    untrusting.then((s) => extras.push(s)).catch(() => undefined);
    await expect(untrusting).rejects.toThrow(/self[- ]signed|unable to (get|verify)|UNABLE_TO/i);
  });

  it('becomes healthy trusting it through TLS_CA_CERTIFICATES_DIR, and names the CA at start-up', async () => {
    expect((await fetch(`${t.net.proxies[0].url}/v1/health`)).status).toBe(200);
    const log = t.net.services.get('proxy1.broker')?.recentLogs() ?? '';
    expect(log).toContain(`reached directly (no HTTP proxy applies); TLS trusts Node's bundled CAs and 1 from TLS_CA_CERTIFICATES_DIR=${trustedDir}`);
    expect(log).toContain('CN=Beamline NATS test CA');
  });

  it('completes task cycles through it, on both replicas', async () => {
    for (let i = 0; i < 4; i++) {
      const task = newTask(APP1, [APP2]);
      expect((await t.app1.postTask(task)).status).toBe(201);
      const todo = await t.app2.get(`/v1/tasks?filter=todo&wait_count=1&wait_time=10s`);
      expect(todo.json).toEqual(expect.arrayContaining([expect.objectContaining({ id: task.id })]));
      expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: `answer ${i}` }))).status).toBe(201);
      const results = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=10s`);
      expect(results.json).toEqual([expect.objectContaining({ body: `answer ${i}` })]);
    }
    const upstreams = new Set(
      [
        ...front()
          .accessLog()
          .matchAll(/upstream=(\S+)/g),
      ].map((m) => m[1]),
    );
    expect([...upstreams].sort()).toEqual(t.net.brokerApiUrls.map((u) => new URL(u).host).sort());
  });

  it('streams Server-Sent Events through it as they happen', async () => {
    const second = t.app2AtProxy1;
    const task = newTask(APP1, [APP2, second.appId]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    const sse = await openSse(`${t.app1.proxyUrl}/v1/tasks/${task.id}/results?wait_count=2&wait_time=30s`, `ApiKey ${APP1} App1Secret`);
    try {
      expect(sse.status).toBe(200);
      expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'first via nginx' }))).status).toBe(201);
      // The stream is still open (it waits for a second result), yet the first event is through: nothing holds it
      // back (the broker's `X-Accel-Buffering: no` already keeps nginx from buffering event streams).
      const [first] = await sse.waitForEvents(1, 5_000);
      expect(JSON.parse(first.data)).toMatchObject({ from: APP2, body: 'first via nginx' });
      expect((await second.putResult(task.id, newResult(task, second.appId, [APP1], { body: 'second via nginx' }))).status).toBe(201);
      const events = await sse.waitForEvents(2, 5_000);
      expect(JSON.parse(events[1].data)).toMatchObject({ from: second.appId, body: 'second via nginx' });
    } finally {
      sse.close();
    }
  });

  it('upgrades direct sockets through it (Upgrade: tcp, 101)', async () => {
    const pair = await openSocketPair(t.app1, t.app2);
    pair.initiator.write('hello over nginx');
    expect((await readExactly(pair.recipient, 16)).toString()).toBe('hello over nginx');
    pair.recipient.write('back');
    expect((await readExactly(pair.initiator, 4)).toString()).toBe('back');
    pair.initiator.destroy();
    pair.recipient.destroy();
    const deadline = Date.now() + 5_000;
    while (!/" 101 /.test(front().accessLog()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(front().accessLog()).toMatch(/"(POST|GET) \/v1\/sockets\/[^ ]+ HTTP\/1\.1" 101 /);
  });

  it("reaches it through the hospital's HTTP proxy too: TLS inside squid's CONNECT tunnel, requests and socket upgrades", async () => {
    squid = await startSquid({ [BROKER_NAME]: '127.0.0.1' });
    const extra = await proxy1With({
      BROKER_URL: `https://${BROKER_NAME}:${front().port}`,
      https_proxy: `http://127.0.0.1:${squid.port}`,
      TLS_CA_CERTIFICATES_DIR: trustedDir,
    });
    extras.push(extra);
    const app1 = new AppClient(extra.url, APP1);
    const task = newTask(APP1, [APP2]);
    expect((await app1.postTask(task)).status).toBe(201);
    const pair = await openSocketPair(app1, t.app2);
    pair.initiator.write('tunnelled');
    expect((await readExactly(pair.recipient, 9)).toString()).toBe('tunnelled');
    pair.initiator.destroy();
    pair.recipient.destroy();
    await extra.stop();
    const deadline = Date.now() + 10_000;
    const tunnels = (): number =>
      squid
        ?.accessLog()
        .split('\n')
        .filter((l) => l.includes(`CONNECT ${BROKER_NAME}:${front().port}`)).length ?? 0;
    while (tunnels() < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(tunnels()).toBeGreaterThanOrEqual(2);
  });
});
