/**
 * Prometheus metrics over the whole dev network (issue 14): `/metrics` on the proxy (open), on broker-api
 * (the monitoring credentials) and on broker-store's own listener (open), each parsed, with a `# TYPE` line
 * for every metric README lists and figures that moved with a task cycle.
 */
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';

let t: TestNetwork;
const MONITORING = { authorization: `Basic ${Buffer.from(':SuperSecretKey').toString('base64')}` };

beforeAll(async () => {
  t = await startTestNetwork();
  const task = newTask(APP1, [APP2]);
  expect((await t.app1.postTask(task)).status).toBe(201);
  expect((await t.app2.get('/v1/tasks?filter=todo')).status).toBe(200);
  expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1]))).status).toBe(201);
  expect((await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=5s`)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

interface Scrape {
  types: Map<string, string>;
  /** Every sample: name with its labels as written, and its value. */
  samples: { name: string; labels: string; value: number }[];
}

/** Prometheus' text format: `# TYPE name type` lines and `name{labels} value` samples. */
function parse(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Scrape['samples'] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    else if (line !== '' && !line.startsWith('#')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/.exec(line);
      if (!m) throw new Error(`not a sample line: ${line}`);
      samples.push({ name: m[1], labels: m[2] ?? '', value: Number(m[3]) });
    }
  }
  return { types, samples };
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect([url, res.status]).toEqual([url, 200]);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8$/);
  return parse(await res.text());
}

const sum = (s: Scrape, name: string, labels: RegExp = /.*/): number =>
  s.samples.filter((x) => x.name === name && labels.test(x.labels)).reduce((a, x) => a + x.value, 0);

/** Every metric named is exposed with its `# TYPE`. */
function expectTypes(s: Scrape, expected: Record<string, string>): void {
  for (const [name, type] of Object.entries(expected)) expect([name, s.types.get(name)]).toEqual([name, type]);
}

const HTTP_METRICS = {
  beamline_http_requests_total: 'counter',
  beamline_http_request_duration_seconds: 'histogram',
  beamline_waiting_requests: 'gauge',
  beamline_auth_failures_total: 'counter',
  process_cpu_seconds_total: 'counter',
};

describe('/metrics', () => {
  it('on the proxy: requests by route and status with latency histograms, waiting clients, auth failures, the control connection', async () => {
    expect((await t.app1.request('GET', '/v1/tasks?filter=todo', undefined, { authorization: `ApiKey ${APP1} wrong` })).status).toBe(401);
    const s = await scrape(t.net.proxies[0].url);
    expectTypes(s, { ...HTTP_METRICS, beamline_broker_control_connected: 'gauge' });
    expect(sum(s, 'beamline_http_requests_total', /route="\/v1\/tasks".*status="201"|status="201".*route="\/v1\/tasks"/)).toBeGreaterThanOrEqual(1);
    expect(sum(s, 'beamline_http_request_duration_seconds_count', /route="\/v1\/tasks\/:id\/results"/)).toBeGreaterThanOrEqual(1);
    expect(sum(s, 'beamline_auth_failures_total', /reason="unauthenticated"/)).toBeGreaterThanOrEqual(1);
    expect(sum(s, 'beamline_broker_control_connected')).toBe(1);
  });

  it('on broker-api, behind the monitoring credentials: sessions, appends, NATS, socket relays', async () => {
    expect((await fetch(`${t.net.brokerUrl}/metrics`)).status).toBe(401);
    const s = await scrape(t.net.brokerUrl, MONITORING);
    const expected = {
      ...HTTP_METRICS,
      beamline_sessions_opened_total: 'counter',
      beamline_append_duration_seconds: 'histogram',
      beamline_nats_connected: 'gauge',
      beamline_socket_relays: 'gauge',
      beamline_socket_relays_waiting: 'gauge',
      beamline_socket_relay_bytes_total: 'counter',
      beamline_socket_retransmitted_bytes_total: 'counter',
    };
    expectTypes(s, expected);
    expect(sum(s, 'beamline_sessions_opened_total')).toBeGreaterThanOrEqual(2);
    expect(sum(s, 'beamline_append_duration_seconds_count', /outcome="appended"/)).toBeGreaterThanOrEqual(2);
    expect(sum(s, 'beamline_nats_connected')).toBe(1);
    expect(sum(s, 'beamline_auth_failures_total', /reason="monitoring_missing"/)).toBeGreaterThanOrEqual(1);
  });

  it("on broker-store's own listener: projection lag, expiry sweeps, NATS, leadership", async () => {
    const s = await scrape(t.net.brokerStoreUrls[0]);
    const expected = {
      beamline_http_requests_total: 'counter',
      beamline_nats_connected: 'gauge',
      beamline_projection_applied_seq: 'gauge',
      beamline_projection_lag: 'gauge',
      beamline_expiry_sweeps_total: 'counter',
      beamline_tasks_expired_total: 'counter',
      beamline_expiry_leader: 'gauge',
    };
    expectTypes(s, expected);
    expect(sum(s, 'beamline_projection_applied_seq')).toBeGreaterThanOrEqual(2);
    expect(sum(s, 'beamline_projection_lag')).toBeLessThan(100);
    expect(sum(s, 'beamline_expiry_leader')).toBe(1);
    expect(sum(s, 'beamline_expiry_sweeps_total', /outcome="ok"/)).toBeGreaterThanOrEqual(1);
  });
});
