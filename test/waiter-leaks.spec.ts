/** A waiting client that disconnects releases every resource at once, even thousands of them. */
import { newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';

let t: TestNetwork;

beforeAll(async () => {
  // One app holds 2,000 waits here, twenty times what an app may by default (MAX_WAITING_PER_APP).
  t = await startTestNetwork({ extraEnv: { proxy: { MAX_WAITING_PER_APP: '2000' } } });
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

async function brokerWaiting(): Promise<number> {
  return ((await (await fetch(`${t.net.brokerUrl}/v1/health`)).json()) as { waiting: number }).waiting;
}

async function until(predicate: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('releases every broker waiter when 2,000 long-polling and SSE clients disconnect', async () => {
  const task = newTask(APP1, [APP2]);
  expect((await t.app1.postTask(task)).status).toBe(201);
  expect(await brokerWaiting()).toBe(0);

  const clients = Array.from({ length: 2_000 }, (_, i) => {
    const controller = new AbortController();
    const sse = i % 4 === 0;
    const url = sse
      ? `${t.app1.proxyUrl}/v1/tasks/${task.id}/results?wait_count=1&wait_time=5m`
      : `${t.app1.proxyUrl}/v1/tasks/${task.id}/results?wait_count=1&wait_time=5m`;
    const done = fetch(url, {
      headers: { authorization: `ApiKey ${APP1} App1Secret`, ...(sse ? { accept: 'text/event-stream' } : {}) },
      signal: controller.signal,
    })
      .then((res) => res.text())
      .catch(() => undefined);
    return { controller, done };
  });
  await until(async () => (await brokerWaiting()) >= 2_000, 60_000);

  for (const c of clients) c.controller.abort();
  await Promise.all(clients.map((c) => c.done));
  await until(async () => (await brokerWaiting()) === 0, 5_000);

  // The network is unharmed: a normal long-poll still works.
  const res = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=200ms`);
  expect(res.status).toBe(206);
}, 120_000);
