/** The remaining status codes of docs/api.md's tables, each seen on a real network. */
import { join } from 'node:path';
import { startHttpService, type HttpServiceHandle } from '@beamline/devnet';
import { AppClient, newResult, newTask } from './support/app-client';
import { startDelayingForwarder, type DelayingForwarder } from './support/delaying-forwarder';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, sendRaw, signed } from './support/proxy-signer';

let t: TestNetwork;

beforeAll(async () => {
  t = await startTestNetwork();
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

describe('proxy routes', () => {
  it('answers 200 on /v1/health once ready', async () => {
    const res = await fetch(`${t.app1.proxyUrl}/v1/health`);
    expect(res.status).toBe(200);
  });

  it('answers 206 on a task listing when wait_time runs out first, and 200 when wait_count is met', async () => {
    const worker = new AppClient(t.app2.proxyUrl, 'app1.proxy2.broker');
    const started = Date.now();
    const none = await worker.get('/v1/tasks?filter=todo&wait_count=1&wait_time=700ms');
    expect(none.status).toBe(206);
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    await t.app1.postTask(newTask(APP1, ['app1.proxy2.broker']));
    expect((await worker.get('/v1/tasks?filter=todo&wait_count=1&wait_time=700ms')).status).toBe(200);
  });

  it('returns every matching item even when there are more than wait_count', async () => {
    const task = newTask(APP1, [APP2, 'app2.proxy1.broker']);
    await t.app1.postTask(task);
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1]));
    await t.app2AtProxy1.putResult(task.id, newResult(task, 'app2.proxy1.broker', [APP1]));
    const res = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1`);
    expect(res.status).toBe(200);
    expect((res.json as unknown[]).length).toBe(2);
  });

  it('answers 400 for wait_count other than 1 on a single task', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    const res = await t.app2.get(`/v1/tasks/${task.id}?wait_count=2`);
    expect(res.status).toBe(400);
    expect((res.json as { message: string }).message).toMatch(/^wait_count/);
  });
});

describe('broker routes', () => {
  it('serves the certificate directory: list, by serial (200/404) and the intermediate CA', async () => {
    const list = (await (await fetch(`${t.net.brokerUrl}/v1/pki/certs`)).json()) as Array<{ serial: string; proxyId: string }>;
    expect(list.map((c) => c.proxyId).sort()).toEqual(['proxy1.broker', 'proxy2.broker']);
    const one = await fetch(`${t.net.brokerUrl}/v1/pki/certs/by_serial/${list[0].serial}`);
    expect(one.status).toBe(200);
    expect(await one.text()).toContain('BEGIN CERTIFICATE');
    expect((await fetch(`${t.net.brokerUrl}/v1/pki/certs/by_serial/00ff`)).status).toBe(404);
    expect(await (await fetch(`${t.net.brokerUrl}/v1/pki/certs/im-ca`)).text()).toContain('BEGIN CERTIFICATE');
  });

  it('serves the CA-signed directory events after a stream sequence, and 400 for a cursor that is not one', async () => {
    const all = (await (await fetch(`${t.net.brokerUrl}/v1/pki/events`)).json()) as { events: { seq: number; subject: string; jws: string }[] };
    expect(all.events.map((e) => e.subject.split('.')[2]).sort()).toEqual(['cert', 'cert', 'im']);
    const last = all.events[all.events.length - 1].seq;
    expect(((await (await fetch(`${t.net.brokerUrl}/v1/pki/events?after=${last - 1}`)).json()) as { events: unknown[] }).events).toHaveLength(1);
    const bad = await fetch(`${t.net.brokerUrl}/v1/pki/events?after=-1`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: 'invalid_input', message: expect.stringMatching(/^after: /) });
  });

  it('reports 503 with the store unavailable while no broker-store runs, and 200 again after', async () => {
    const store = t.net.services.get('broker-store')!;
    await store.stop();
    try {
      const res = await fetch(`${t.net.brokerUrl}/v1/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ summary: 'unhealthy', nats: { status: 'ok' }, store: { status: 'unavailable' } });
    } finally {
      await store.restart();
    }
    for (let i = 0; i < 50; i++) {
      if ((await fetch(`${t.net.brokerUrl}/v1/health`)).status === 200) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect((await fetch(`${t.net.brokerUrl}/v1/health`)).status).toBe(200);
  });

  it('never says healthy right after reads failed: degraded, naming broker-store, although it answers again', async () => {
    const store = t.net.services.get('broker-store')!;
    process.kill(store.pid, 'SIGSTOP'); // alive but answering nothing, as a store swamped by queries
    let read: Awaited<ReturnType<typeof sendRaw>>;
    try {
      read = await sendRaw(t.net.brokerUrl, await signed(proxySigner(t.net, 1), { method: 'GET', pathAndQuery: `/v1/tasks?filter=todo&beam_app=${APP2}` }));
    } finally {
      process.kill(store.pid, 'SIGCONT');
    }
    expect(read.status).toBe(502);
    expect(read.json).toMatchObject({ error: 'store_unavailable' });
    const res = await fetch(`${t.net.brokerUrl}/v1/health`);
    expect(res.status).toBe(200);
    const health = (await res.json()) as { summary: string; reasons: string[]; store: { status: string } };
    expect(health.store.status).toBe('ok');
    expect(health.summary).toBe('degraded');
    expect(health.reasons.join('\n')).toMatch(/broker-store: queries failed within the last 30 s/);
  }, 30_000);
});

describe('a broker that is unreachable or slow', () => {
  let forwarder: DelayingForwarder;
  let proxy: HttpServiceHandle;
  let app: AppClient;

  beforeAll(async () => {
    forwarder = await startDelayingForwarder(t.net.brokerUrl);
    proxy = await startHttpService({
      name: 'proxy1-replica',
      script: join(__dirname, '..', 'dist', 'apps', 'proxy', 'src', 'main.js'),
      env: {
        BROKER_URL: forwarder.url,
        PROXY_ID: 'proxy1.broker',
        PRIVKEY_FILE: t.net.pki.proxies[0].keyFile,
        ROOTCERT_FILE: t.net.pki.rootCertFile,
        APP_app1_KEY: 'App1Secret',
        BROKER_TIMEOUT: '1s',
        BROKER_RETRY_BUDGET: '3s',
        LOG_LEVEL: 'error',
      },
      healthPath: '/v1/health',
    });
    app = new AppClient(proxy.url, APP1);
  }, 60_000);

  afterAll(async () => {
    await proxy?.stop();
    await forwarder?.close();
  });

  it('answers 504 when the broker takes too long, and keeps serving', async () => {
    forwarder.delay((method, path) => method === 'POST' && path === '/v1/tasks', 3_000);
    const res = await app.postTask(newTask(APP1, [APP2]));
    expect(res.status).toBe(504);
    expect(res.json).toMatchObject({ error: 'broker_timeout' });
    forwarder.delay(() => false, 0);
    expect((await app.postTask(newTask(APP1, [APP2]))).status).toBe(201);
  });

  it('rides out a broker that answers 503 for a while (a NATS leader election): the app gets 201, later', async () => {
    const refused = forwarder.unavailableFor((method, path) => method === 'POST' && path === '/v1/tasks', 2_000);
    const asked = Date.now();
    const res = await app.postTask(newTask(APP1, [APP2]));
    expect(res.status).toBe(201);
    expect(refused()).toBeGreaterThan(2); // retried with backoff…
    expect(Date.now() - asked).toBeGreaterThanOrEqual(2_000); // …until the outage was over
  });

  it('answers 502 when the broker is unreachable and keeps running', async () => {
    await forwarder.close();
    const asked = Date.now();
    const res = await app.postTask(newTask(APP1, [APP2]));
    expect(res.status).toBe(502);
    const tookMs = Date.now() - asked;
    expect(tookMs).toBeGreaterThan(2_500); // retried with backoff for the whole budget…
    expect(tookMs).toBeLessThan(6_000); // …for BROKER_RETRY_BUDGET (3 s here), not the default 30 s
    expect(res.json).toMatchObject({ error: 'broker_unavailable' });
    expect((await fetch(`${app.proxyUrl}/v1/health`)).status).toBe(200);
  });
});
