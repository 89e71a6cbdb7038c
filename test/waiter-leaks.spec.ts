/** A waiting client that disconnects releases every resource at once, even thousands of them. */
import { newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';

let t: TestNetwork;

beforeAll(async () => {
  // One app holds 2,000 waits here, twenty times what an app may by default (MAX_WAITING_PER_APP).
  // Bodies stay inside their messages (INLINE_BODY_MAX at its ceiling), so a 9 MB task makes a 9 MB+ answer.
  t = await startTestNetwork({ extraEnv: { proxy: { MAX_WAITING_PER_APP: '2000', INLINE_BODY_MAX: '16MiB' } } });
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

async function brokerWaiting(): Promise<number> {
  return ((await (await fetch(`${t.net.brokerUrl}/v1/health`)).json()) as { waiting: number }).waiting;
}

/**
 * Waits until the broker's waiter count satisfies `done`, for as long as the count keeps moving. A leak shows as a
 * count that stops short and stays there; a slow box only makes it move slowly, so the clock restarts on every
 * change and only a count that stands still for `stallMs` fails the test.
 */
async function untilWaiting(done: (waiting: number) => boolean, stallMs: number, problems: () => string[]): Promise<void> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const waiting = await brokerWaiting();
    if (done(waiting)) return;
    const early = problems();
    if (early.length > 0) throw new Error(`${early.length} clients ended early, first: ${early[0]} (broker waiting: ${waiting})`);
    if (waiting !== last) [last, lastChange] = [waiting, Date.now()];
    if (Date.now() - lastChange > stallMs) throw new Error(`broker waiter count stuck at ${waiting} for ${stallMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the proxy at `proxyUrl` holds `n` waiting app requests (its `beamline_waiting_requests` gauge). */
async function untilProxyWaiting(n: number, proxyUrl = t.app1.proxyUrl): Promise<void> {
  for (const until = Date.now() + 30_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const metrics = await (await fetch(`${proxyUrl}/metrics`)).text();
    const waiting = [...metrics.matchAll(/^beamline_waiting_requests\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
    if (waiting >= n) return;
  }
  throw new Error(`the proxy never held ${n} waiting requests`);
}

it('releases every broker waiter when 2,000 long-polling and SSE clients disconnect', async () => {
  const task = newTask(APP1, [APP2]);
  expect((await t.app1.postTask(task)).status).toBe(201);
  expect(await brokerWaiting()).toBe(0);

  const endedEarly: string[] = [];
  let aborting = false;
  const clients = Array.from({ length: 2_000 }, (_, i) => {
    const controller = new AbortController();
    const sse = i % 4 === 0;
    const done = fetch(`${t.app1.proxyUrl}/v1/tasks/${task.id}/results?wait_count=1&wait_time=5m`, {
      headers: { authorization: `ApiKey ${APP1} App1Secret`, ...(sse ? { accept: 'text/event-stream' } : {}) },
      signal: controller.signal,
    })
      .then(async (res) => {
        const body = await res.text();
        if (!aborting) endedEarly.push(`${res.status} ${body.slice(0, 200)}`);
      })
      .catch((err: unknown) => {
        if (!aborting) endedEarly.push(String(err));
      });
    return { controller, done };
  });
  // Every SSE stream holds its own wait at the broker; the 1,500 identical long-polls share one (SharedWaits).
  await untilWaiting(
    (n) => n >= 500 + 1,
    30_000,
    () => endedEarly,
  );
  await untilProxyWaiting(2_000);

  aborting = true;
  for (const c of clients) c.controller.abort();
  await Promise.all(clients.map((c) => c.done));
  await untilWaiting(
    (n) => n === 0,
    5_000,
    () => [],
  );

  // The network is unharmed: a normal long-poll still works.
  const res = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=200ms`);
  expect(res.status).toBe(206);
}, 300_000);

it('holds one wait at the broker for 300 identical long-polls of one app, and one task wakes them all', async () => {
  const worker = 'app1.proxy2.broker';
  const proxyUrl = t.net.proxies[1].url;
  const before = await brokerWaiting();
  const polls = Array.from({ length: 300 }, () =>
    fetch(`${proxyUrl}/v1/tasks?filter=todo&wait_count=1&wait_time=60s`, { headers: { authorization: `ApiKey ${worker} App1Secret` } }).then(async (res) => ({
      status: res.status,
      tasks: (await res.json()) as { id: string }[],
    })),
  );
  await untilProxyWaiting(300, proxyUrl);
  expect((await brokerWaiting()) - before).toBe(1);
  const task = newTask(APP1, [worker]);
  expect((await t.app1.postTask(task)).status).toBe(201);
  const answers = await Promise.all(polls);
  expect(answers.filter((a) => a.status === 200 && a.tasks.length === 1 && a.tasks[0].id === task.id)).toHaveLength(300);
  expect(await brokerWaiting()).toBe(before);
}, 60_000);

it('shares no answer too big to hold for everyone: identical long-polls each read a 9 MB task themselves', async () => {
  const worker = 'app2.proxy1.broker';
  const proxyUrl = t.net.proxies[0].url;
  const polls = Array.from({ length: 3 }, () =>
    fetch(`${proxyUrl}/v1/tasks?filter=todo&wait_count=1&wait_time=60s`, { headers: { authorization: `ApiKey ${worker} App1Secret` } }).then(async (res) => ({
      status: res.status,
      tasks: (await res.json()) as { id: string; body: string }[],
    })),
  );
  await untilProxyWaiting(3, proxyUrl);
  const listingsBefore = await brokerListings();
  const task = newTask(APP1, [worker], { body: 'b'.repeat(9 * 1024 * 1024) });
  expect((await t.app1.postTask(task)).status).toBe(201);
  for (const answer of await Promise.all(polls)) {
    expect(answer.status).toBe(200);
    expect(answer.tasks.map((x) => [x.id, x.body.length])).toEqual([[task.id, task.body.length]]);
  }
  // The shared wait's answer, dropped as too big, then one read of each request (counted as each connection closes).
  let listings = 0;
  for (const until = Date.now() + 2_000; Date.now() < until && listings < 4; await new Promise((r) => setTimeout(r, 50)))
    listings = (await brokerListings()) - listingsBefore;
  expect(listings).toBe(1 + 3);
}, 60_000);

/** GET /v1/tasks answers broker-api gave so far (its metrics). */
async function brokerListings(): Promise<number> {
  const metrics = await (
    await fetch(`${t.net.brokerUrl}/metrics`, { headers: { authorization: `Basic ${Buffer.from(':SuperSecretKey').toString('base64')}` } })
  ).text();
  return [...metrics.matchAll(/^beamline_http_requests_total\{([^}]*)\} (\d+)$/gm)]
    .filter(([, labels]) => labels.includes('method="GET"') && labels.includes('route="/v1/tasks"'))
    .reduce((sum, m) => sum + Number(m[2]), 0);
}
