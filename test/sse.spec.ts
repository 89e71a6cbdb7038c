/** Server-Sent Events on results and tasks, through proxy and broker, against a real nats-server. */
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { openSse } from './support/sse-client';

let t: TestNetwork;
const auth1 = `ApiKey ${APP1} App1Secret`;
const auth2 = `ApiKey ${APP2} App1Secret`;
const OTHER_WORKER = 'app2.proxy1.broker';

beforeAll(async () => {
  t = await startTestNetwork({ extraEnv: { proxy: { SSE_KEEPALIVE: '300ms' }, 'broker-api': { SSE_KEEPALIVE: '300ms' } } });
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

async function taskWithWorkers(): Promise<ReturnType<typeof newTask>> {
  const task = newTask(APP1, [APP2, OTHER_WORKER]);
  expect((await t.app1.postTask(task)).status).toBe(201);
  return task;
}

const resultsUrl = (id: string, query: string) => `${t.app1.proxyUrl}/v1/tasks/${id}/results${query}`;

describe('SSE on results', () => {
  it('sends existing results first, then live ones, and ends after wait_count non-claimed results', async () => {
    const task = await taskWithWorkers();
    await t.app2.putResult(task.id, { from: APP2, to: [APP1], task: task.id, status: 'claimed', metadata: null });
    const sse = await openSse(resultsUrl(task.id, '?wait_count=2&wait_time=20s'), auth1);
    expect(sse.status).toBe(200);
    expect(sse.contentType).toContain('text/event-stream');
    const [first] = await sse.waitForEvents(1);
    expect(first.event).toBe('new_result');
    expect(JSON.parse(first.data)).toMatchObject({ from: APP2, status: 'claimed' });

    await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'from app2' }));
    await t.app2AtProxy1.putResult(task.id, newResult(task, OTHER_WORKER, [APP1], { body: 'from the other worker' }));
    await sse.ended;
    expect(sse.events.map((e) => [e.event, JSON.parse(e.data).status, JSON.parse(e.data).body])).toEqual([
      ['new_result', 'claimed', undefined],
      ['new_result', 'succeeded', 'from app2'],
      ['new_result', 'succeeded', 'from the other worker'],
    ]);
    const ids = sse.events.map((e) => Number(e.id));
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('resumes with Last-Event-ID exactly once: no loss, no duplicates', async () => {
    const task = await taskWithWorkers();
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'one' }));
    const first = await openSse(resultsUrl(task.id, '?wait_count=2&wait_time=20s'), auth1);
    const [seen] = await first.waitForEvents(1);
    first.close();
    await t.app2AtProxy1.putResult(task.id, newResult(task, OTHER_WORKER, [APP1], { body: 'two' }));

    const resumed = await openSse(resultsUrl(task.id, '?wait_count=2&wait_time=20s'), auth1, { 'last-event-id': seen.id as string });
    await resumed.ended;
    expect(resumed.events.map((e) => JSON.parse(e.data).body)).toEqual(['two']);
  });

  it('sends keep-alive comments and ends with wait_expired (data null) when wait_time runs out', async () => {
    const task = await taskWithWorkers();
    const started = Date.now();
    const sse = await openSse(resultsUrl(task.id, '?wait_count=1&wait_time=1500ms'), auth1);
    await sse.ended;
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    expect(sse.comments).toContain('keep-alive');
    expect(sse.events.map((e) => [e.event, e.data])).toEqual([['wait_expired', 'null']]);
  });

  it('without wait parameters sends what exists and ends', async () => {
    const task = await taskWithWorkers();
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1]));
    const sse = await openSse(resultsUrl(task.id, ''), auth1);
    await sse.ended;
    expect(sse.events.map((e) => e.event)).toEqual(['new_result']);
  });

  it('ends with wait_expired "Task expired" when the task expires', async () => {
    const task = newTask(APP1, [APP2], { ttl: '1s' });
    await t.app1.postTask(task);
    const sse = await openSse(resultsUrl(task.id, '?wait_count=1&wait_time=20s'), auth1);
    await sse.ended;
    expect(sse.events.map((e) => [e.event, e.data])).toEqual([['wait_expired', '"Task expired"']]);
  });

  it('answers 403 as JSON, not as a stream, for a reader who is not the creator', async () => {
    const task = await taskWithWorkers();
    const sse = await openSse(`${t.app2.proxyUrl}/v1/tasks/${task.id}/results?wait_count=1`, auth2);
    expect(sse.status).toBe(403);
    expect(sse.contentType).toContain('application/json');
  });
});

describe('SSE on tasks', () => {
  it('streams existing and new tasks for the todo filter as new_task events', async () => {
    const worker = 'app1.proxy2.broker';
    const before = newTask(APP1, [worker]);
    await t.app1.postTask(before);
    const sse = await openSse(`${t.app2.proxyUrl}/v1/tasks?filter=todo&wait_count=2&wait_time=20s`, `ApiKey ${worker} App1Secret`);
    await sse.waitForEvents(1);
    const after = newTask(APP1, [worker]);
    await t.app1.postTask(after);
    await sse.ended;
    expect(sse.events.map((e) => [e.event, JSON.parse(e.data).id, JSON.parse(e.data).body])).toEqual([
      ['new_task', before.id, before.body],
      ['new_task', after.id, after.body],
    ]);
  });
});
