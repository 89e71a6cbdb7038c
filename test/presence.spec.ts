/**
 * Proxy presence and broker monitoring, end to end: proxies hold a control connection to the broker,
 * presence is shared by broker-api replicas through NATS KV, and `/v1/health/proxies` reports it behind
 * MONITORING_API_KEY. Against a real nats-server, broker-store, broker-api and two proxies.
 */
import { join, resolve } from 'node:path';
import { DEV_DEFAULTS, startHttpService, type ServiceHandle } from '@beamline/devnet';
import { dumpLogs, startTestNetwork, type TestNetwork } from './support/network';

const KEY = DEV_DEFAULTS.monitoringApiKey;
const P1 = 'proxy1.broker';
const P2 = 'proxy2.broker';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const DIST = join(resolve(__dirname, '..'), 'dist');

interface Answer {
  status: number;
  headers: Headers;
  json: any;
}

const basic = (key: string): string => `Basic ${Buffer.from(`:${key}`).toString('base64')}`;

/** `authorization` null: no Authorization header at all. */
async function get(url: string, authorization: string | null = basic(KEY)): Promise<Answer> {
  const res = await fetch(url, { headers: authorization === null ? {} : { authorization }, signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, json };
}

/** Polls `probe` until `done` holds; returns the last answer (the caller asserts on it). */
async function waitFor<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch((err: unknown) => err as T);
    if (done(v) || Date.now() >= deadline) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

const proxyStatus = (brokerUrl: string, proxyId: string): Promise<Answer> => get(`${brokerUrl}/v1/health/proxies/${proxyId}`);
const statusIs = (status: number) => (a: Answer) => a?.status === status;
const controlConnected = (connected: boolean) => (a: Answer) => a?.status === 200 && a.json?.control?.connected === connected;

let t: TestNetwork;
let brokerUrl: string;
/** A second broker-api replica (same NATS, same key) that no proxy talks to. */
let replica: { url: string; service: ServiceHandle };
const extras: ServiceHandle[] = [];

async function startBrokerApi(name: string, monitoringApiKey: string): Promise<{ url: string; service: ServiceHandle }> {
  const service = await startHttpService({
    name,
    script: join(DIST, 'apps', 'broker-api', 'src', 'main.js'),
    env: {
      NATS_URL: t.net.natsUrl,
      BROKER_ID: DEV_DEFAULTS.brokerId,
      ROOTCERT_FILE: t.net.pki.rootCertFile,
      SESSION_SECRET: t.net.sessionSecret,
      MONITORING_API_KEY: monitoringApiKey,
    },
    healthPath: '/v1/health',
    log: process.env.BEAMLINE_TEST_LOG === '1',
  });
  extras.push(service);
  return { url: service.url, service };
}

async function startProxy1Replica(toBrokerUrl: string): Promise<{ url: string; service: ServiceHandle }> {
  const service = await startHttpService({
    name: 'proxy1.broker#2',
    script: join(DIST, 'apps', 'proxy', 'src', 'main.js'),
    env: {
      BROKER_URL: toBrokerUrl,
      PROXY_ID: P1,
      PRIVKEY_FILE: t.net.pki.proxies[0].keyFile,
      ROOTCERT_FILE: t.net.pki.rootCertFile,
      APP_app1_KEY: 'App1Secret',
    },
    healthPath: '/v1/health',
    log: process.env.BEAMLINE_TEST_LOG === '1',
  });
  extras.push(service);
  return { url: service.url, service };
}

beforeAll(async () => {
  t = await startTestNetwork();
  brokerUrl = t.net.brokerUrl;
  replica = await startBrokerApi('broker-api#2', KEY);
}, 120_000);

afterAll(async () => {
  if (process.env.BEAMLINE_TEST_LOG === 'dump' && t) console.log(dumpLogs(t.net));
  for (const s of extras.splice(0).reverse()) await s.stop().catch(() => undefined);
  await t?.net.stop();
});

describe('presence', () => {
  it('lists both proxies and reports them connected within a few seconds of start', async () => {
    const list = await waitFor(
      () => get(`${brokerUrl}/v1/health/proxies`),
      (a) => Array.isArray(a?.json) && a.json.length === 2,
      15_000,
    );
    expect(list.status).toBe(200);
    expect(list.headers.get('content-type')).toMatch(/application\/json/);
    expect(list.json).toEqual([P1, P2]);

    for (const id of [P1, P2]) {
      const one = await waitFor(() => proxyStatus(brokerUrl, id), statusIs(200), 15_000);
      expect(one.status).toBe(200);
      expect(one.json).toMatchObject({ status: 'connected', proxy_id: id, connections: 1 });
      expect(one.json.since).toMatch(RFC3339);
    }

    // The proxy reports its side of the control connection; its health stays 200 (= ready).
    const health = await get(`${t.net.proxies[0].url}/v1/health`, null);
    expect(health.status).toBe(200);
    expect(health.json).toMatchObject({ summary: 'healthy', control: { connected: true, reconnects: 0 } });
    expect(health.json.control.since).toMatch(RFC3339);
  });

  it('answers the same presence on another broker-api replica', async () => {
    expect((await get(`${replica.url}/v1/health/proxies`)).json).toEqual([P1, P2]);
    const one = await proxyStatus(replica.url, P1);
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ status: 'connected', proxy_id: P1 });
  });

  it('answers 404 for a proxy never seen', async () => {
    const res = await proxyStatus(brokerUrl, 'proxy9.broker');
    expect(res.status).toBe(404);
    expect(res.json).toEqual({ error: expect.any(String), message: expect.stringContaining('proxy9.broker') });
  });

  it('reports a stopped proxy disconnected within 5 s, on every replica, and connected again after its restart', async () => {
    const proxy1 = t.net.services.get(P1)!;
    const before = Date.now();
    await proxy1.stop();
    const stopped = Date.now();
    const down = await waitFor(() => proxyStatus(brokerUrl, P1), statusIs(503), 5_000);
    expect(down.status).toBe(503);
    expect(Date.now() - stopped).toBeLessThan(5_000);
    expect(Object.keys(down.json)).toEqual(['last_disconnect']);
    expect(down.json.last_disconnect).toMatch(RFC3339);
    const at = Date.parse(down.json.last_disconnect);
    expect(at).toBeGreaterThanOrEqual(before - 1_000);
    expect(at).toBeLessThanOrEqual(Date.now());

    const onReplica = await proxyStatus(replica.url, P1);
    expect(onReplica.status).toBe(503);
    expect(onReplica.json).toEqual(down.json);
    // Still listed, and proxy2 is unaffected.
    expect((await get(`${brokerUrl}/v1/health/proxies`)).json).toEqual([P1, P2]);
    expect((await proxyStatus(brokerUrl, P2)).status).toBe(200);

    await proxy1.restart();
    const up = await waitFor(() => proxyStatus(brokerUrl, P1), statusIs(200), 15_000);
    expect(up.status).toBe(200);
    expect(up.json).toMatchObject({ status: 'connected', proxy_id: P1 });
  });

  it('keeps a proxy connected while any of its replicas holds a connection to any broker-api', async () => {
    const second = await startProxy1Replica(replica.url);
    await waitFor(() => get(`${second.url}/v1/health`, null), controlConnected(true), 15_000);
    const both = await waitFor(
      () => proxyStatus(brokerUrl, P1),
      (a) => a?.json?.connections === 2,
      10_000,
    );
    expect(both.json).toMatchObject({ status: 'connected', connections: 2 });

    const proxy1 = t.net.services.get(P1)!;
    await proxy1.stop();
    const one = await waitFor(
      () => proxyStatus(brokerUrl, P1),
      (a) => a?.json?.connections === 1,
      5_000,
    );
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ status: 'connected', connections: 1 });

    // A broker-api that shuts down cleanly closes the connections it holds and marks them disconnected at
    // once (no waiting for the presence TTL); the proxy reconnects when it is back.
    await replica.service.stop();
    const down = await waitFor(() => proxyStatus(brokerUrl, P1), statusIs(503), 5_000);
    expect(down.status).toBe(503);
    expect(down.json.last_disconnect).toMatch(RFC3339);
    const h = await get(`${second.url}/v1/health`, null);
    expect(h.status).toBe(200);
    expect(h.json.control).toMatchObject({ connected: false });

    await replica.service.restart();
    const back = await waitFor(() => get(`${second.url}/v1/health`, null), controlConnected(true), 20_000);
    expect(back.json.control).toMatchObject({ connected: true, reconnects: 1 });
    expect((await waitFor(() => proxyStatus(brokerUrl, P1), statusIs(200), 5_000)).status).toBe(200);

    await second.service.stop();
    expect((await waitFor(() => proxyStatus(replica.url, P1), statusIs(503), 5_000)).status).toBe(503);

    await proxy1.restart();
    expect((await waitFor(() => proxyStatus(brokerUrl, P1), statusIs(200), 15_000)).status).toBe(200);
  });
});

describe('monitoring auth', () => {
  it('answers 401 with a Basic challenge without credentials, with malformed ones and with a wrong key', async () => {
    for (const path of ['/v1/health/proxies', `/v1/health/proxies/${P1}`]) {
      for (const authorization of [
        null,
        'Bearer SuperSecretKey',
        'Basic %%%',
        `Basic ${Buffer.from(KEY).toString('base64')}`,
        basic('WrongKey'),
        `Basic ${Buffer.from(`admin:${KEY}`).toString('base64')}`,
      ]) {
        const res = await get(brokerUrl + path, authorization);
        expect({ path, authorization, status: res.status }).toEqual({ path, authorization, status: 401 });
        expect(res.headers.get('www-authenticate')).toBe('Basic realm="beamline-monitoring"');
        expect(res.json).toEqual({ error: 'unauthenticated', message: expect.any(String) });
      }
    }
    expect((await get(`${brokerUrl}/v1/health/proxies`)).status).toBe(200);
  });

  it('answers 501 on a broker-api started without MONITORING_API_KEY', async () => {
    const bare = await startBrokerApi('broker-api#nokey', '');
    try {
      for (const path of ['/v1/health/proxies', `/v1/health/proxies/${P1}`]) {
        const res = await get(bare.url + path);
        expect(res.status).toBe(501);
        expect(res.json).toEqual({ error: 'monitoring_disabled', message: expect.any(String) });
      }
      expect((await get(`${bare.url}/v1/health/proxies`, null)).status).toBe(501);
    } finally {
      await bare.service.stop();
    }
  });
});

describe('broker-api failure', () => {
  // Last: the killed instance's presence keys stay until their 30 s TTL runs out.
  it('proxies reconnect to a broker-api that was killed and restarted, and are present again', async () => {
    const api = t.net.services.get('broker-api')!;
    await api.kill();
    for (const p of t.net.proxies) {
      const h = await waitFor(() => get(`${p.url}/v1/health`, null), controlConnected(false), 10_000);
      expect(h.status).toBe(200); // still healthy: a missing control connection is reported in the body
      expect(h.json.control).toMatchObject({ connected: false });
    }
    // The surviving replica still answers monitoring while the other one is down.
    expect((await get(`${replica.url}/v1/health/proxies`)).json).toEqual([P1, P2]);

    await api.restart();
    for (const p of t.net.proxies) {
      const h = await waitFor(() => get(`${p.url}/v1/health`, null), controlConnected(true), 20_000);
      expect(h.json.control).toMatchObject({ connected: true });
      expect(h.json.control.reconnects).toBeGreaterThanOrEqual(1);
    }
    for (const id of [P1, P2]) {
      const res = await waitFor(() => proxyStatus(brokerUrl, id), statusIs(200), 10_000);
      expect(res.json).toMatchObject({ status: 'connected', proxy_id: id });
    }
  });
});
