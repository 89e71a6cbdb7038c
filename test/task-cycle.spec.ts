/**
 * The encrypted task cycle over HTTP, end to end: app → proxy → broker-api → JetStream → broker-store →
 * broker-api → proxy → app, against a real nats-server.
 */
import { AppClient, newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';

let t: TestNetwork;

/**
 * Far longer than any wake-up may take: a waiter re-reads this often without a notification, so a wake-up
 * test that finishes well within it proves the notification woke the waiter.
 */
const WAKE_RECHECK_MS = 30_000;

beforeAll(async () => {
  t = await startTestNetwork({ extraEnv: { 'broker-api': { WAKE_RECHECK: `${WAKE_RECHECK_MS}ms` } } });
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

describe("Samply.Beam's getting-started walkthrough", () => {
  const task = {
    body: 'What is the answer to the ultimate question of life, the universe, and everything?',
    failure_strategy: { retry: { backoff_millisecs: 1000, max_tries: 5 } },
    from: 'app1.proxy1.broker',
    id: '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8',
    metadata: 'The broker can read and use this field e.g., to apply filters on behalf of an app',
    to: ['app2.proxy2.broker'],
    ttl: '60s',
  };

  it('creates, lists as todo, claims, answers and long-polls the result with identical bodies', async () => {
    const created = await t.app1.postTask(task);
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`/v1/tasks/${task.id}`);
    expect(created.text).toBe('');

    const todo = await t.app2.get('/v1/tasks?filter=todo');
    expect(todo.status).toBe(200);
    expect(todo.json).toEqual([{ ...task, ttl: expect.stringMatching(/^(59|60)s$/) }]);

    const claim = {
      from: APP2,
      id: '8db76400-e2d9-4d9d-881f-f073336338c1',
      metadata: ['Arbitrary', 'types', 'are', 'possible'],
      status: 'claimed',
      task: task.id,
      to: [APP1],
    };
    expect((await t.app2.putResult(task.id, claim)).status).toBe(201);
    expect((await t.app2.get('/v1/tasks?filter=todo')).json).toEqual([]);

    const answer = {
      from: APP2,
      metadata: ['Arbitrary', 'types', 'are', 'possible'],
      status: 'succeeded',
      body: 'The answer is 42',
      task: task.id,
      to: [APP1],
    };
    expect((await t.app2.putResult(task.id, answer)).status).toBe(204);

    const results = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1`);
    expect(results.status).toBe(200);
    expect(results.json).toEqual([
      { from: APP2, to: [APP1], task: task.id, status: 'succeeded', body: 'The answer is 42', metadata: ['Arbitrary', 'types', 'are', 'possible'] },
    ]);
  });
});

describe('long polling', () => {
  it('wakes a waiting results long-poll as soon as the result is written', async () => {
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    const started = Date.now();
    const waiting = t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=60s`);
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'done' }))).status).toBe(201);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect((res.json as Array<{ body: string }>)[0].body).toBe('done');
    expect(Date.now() - started).toBeLessThan(WAKE_RECHECK_MS / 3);
  });

  it('wakes a waiting todo long-poll when a task for the app is created', async () => {
    const app = new AppClient(t.app2.proxyUrl, 'app1.proxy2.broker');
    const started = Date.now();
    const waiting = app.get('/v1/tasks?filter=todo&wait_count=1&wait_time=60s');
    await new Promise((r) => setTimeout(r, 300));
    const task = newTask(APP1, ['app1.proxy2.broker']);
    await t.app1.postTask(task);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect((res.json as Array<{ id: string }>).map((x) => x.id)).toContain(task.id);
    expect(Date.now() - started).toBeLessThan(WAKE_RECHECK_MS / 3);
  });

  it('returns 206 when wait_time runs out first', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    const started = Date.now();
    const res = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=1s`);
    expect(res.status).toBe(206);
    expect(res.json).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('returns at once when neither wait_count nor wait_time is given', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    const started = Date.now();
    const res = await t.app1.get(`/v1/tasks/${task.id}/results`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('returns claimed results but does not count them towards wait_count', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    await t.app2.putResult(task.id, { from: APP2, to: [APP1], task: task.id, status: 'claimed', metadata: null });
    const res = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=500ms`);
    expect(res.status).toBe(206);
    expect(res.json).toEqual([{ from: APP2, to: [APP1], task: task.id, status: 'claimed', metadata: null }]);
  });
});

describe('tasks', () => {
  it('shows "<encrypted>" to a creator listing its own tasks and the plaintext to recipients', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    const mine = (await t.app1.get(`/v1/tasks?from=${APP1}`)).json as Array<{ id: string; body: string }>;
    expect(mine.find((x) => x.id === task.id)?.body).toBe('<encrypted>');
    const theirs = await t.app2.get(`/v1/tasks/${task.id}`);
    expect(theirs.status).toBe(200);
    expect((theirs.json as { body: string }).body).toBe(task.body);
  });

  it('delivers to several recipients on the same and on other proxies', async () => {
    const task = newTask(APP1, [APP2, 'app2.proxy1.broker']);
    expect((await t.app1.postTask(task)).status).toBe(201);
    for (const app of [t.app2, t.app2AtProxy1]) {
      const got = await app.get(`/v1/tasks/${task.id}`);
      expect((got.json as { body: string }).body).toBe(task.body);
    }
  });

  it('answers 409 for a live duplicate id with other content, and 201 for an identical retry', async () => {
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app1.postTask(task)).status).toBe(201);
    const clash = await t.app1.postTask({ ...task, body: 'something else' });
    expect(clash.status).toBe(409);
    expect(clash.json).toMatchObject({ error: 'task_exists' });
  });

  it('answers 424 with the ProxyIds of recipients without a certificate, and creates nothing', async () => {
    const task = newTask(APP1, [APP2, 'app1.proxy9.broker', 'app2.proxy9.broker']);
    const res = await t.app1.postTask(task);
    expect(res.status).toBe(424);
    expect(res.json).toEqual(['proxy9.broker']);
    expect((await t.app2.get(`/v1/tasks/${task.id}`)).status).toBe(404);
  });

  it('answers 401 with WWW-Authenticate when the key is wrong or from is not the caller', async () => {
    const wrongKey = await new AppClient(t.app1.proxyUrl, APP1, 'nope').postTask(newTask(APP1, [APP2]));
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.headers.get('www-authenticate')).toBe('ApiKey');
    const spoofed = await t.app1.postTask(newTask('app2.proxy1.broker', [APP2]));
    expect(spoofed.status).toBe(401);
    expect(spoofed.json).toMatchObject({ error: 'from_mismatch' });
  });

  it('answers 400 without from, to or filter, and 403 when listing for another app', async () => {
    expect((await t.app1.get('/v1/tasks')).status).toBe(400);
    expect((await t.app1.get(`/v1/tasks?to=${APP2}`)).status).toBe(403);
    expect((await t.app1.get(`/v1/tasks?from=${APP2}`)).status).toBe(403);
  });

  it('answers 404 at once for an unknown id and for a task the caller is not part of', async () => {
    const started = Date.now();
    expect((await t.app1.get('/v1/tasks/3f1c2a52-0000-4000-8000-000000000000')).status).toBe(404);
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    expect((await t.app2AtProxy1.get(`/v1/tasks/${task.id}`)).status).toBe(404);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('long-polls get-by-id with wait_time until the task appears', async () => {
    const task = newTask(APP1, [APP2]);
    const waiting = t.app2.get(`/v1/tasks/${task.id}?wait_time=10s`);
    await new Promise((r) => setTimeout(r, 300));
    await t.app1.postTask(task);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect((res.json as { id: string }).id).toBe(task.id);
  });

  it('answers 400 naming the field for malformed input', async () => {
    const bad = await t.app1.request('POST', '/v1/tasks', '{"id": nope');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: 'bad_json' });
    const badTtl = await t.app1.postTask(newTask(APP1, [APP2], { ttl: '-5s' }));
    expect(badTtl.status).toBe(400);
    expect((badTtl.json as { message: string }).message).toMatch(/^ttl/);
    const badId = await t.app1.postTask(newTask(APP1, [APP2], { id: 'not-a-uuid' }));
    expect(badId.status).toBe(400);
    expect((badId.json as { message: string }).message).toMatch(/^id/);
  });

  it('round-trips a 10 MB body intact', async () => {
    const body = 'x'.repeat(5 * 1024 * 1024) + 'é'.repeat(2 * 1024 * 1024) + 'end';
    const task = newTask(APP1, [APP2], { body });
    expect((await t.app1.postTask(task)).status).toBe(201);
    const got = await t.app2.get(`/v1/tasks/${task.id}`);
    expect(got.status).toBe(200);
    expect((got.json as { body: string }).body === body).toBe(true);
  });
});

describe('results', () => {
  it('answers 201 for a new result and 204 when the worker replaces it', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'tempfailed' }))).status).toBe(201);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1]))).status).toBe(204);
  });

  it('keeps a tempfailed task in todo and drops it once succeeded', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    const todoIds = async () => ((await t.app2.get('/v1/tasks?filter=todo')).json as Array<{ id: string }>).map((x) => x.id);
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'tempfailed' }));
    expect(await todoIds()).toContain(task.id);
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1]));
    expect(await todoIds()).not.toContain(task.id);
  });

  it('never lets a late claimed overwrite succeeded', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'final' }));
    await t.app2.putResult(task.id, { from: APP2, to: [APP1], task: task.id, status: 'claimed', metadata: null });
    const results = (await t.app1.get(`/v1/tasks/${task.id}/results`)).json as Array<{ status: string; body: string }>;
    expect(results).toEqual([expect.objectContaining({ status: 'succeeded', body: 'final' })]);
  });

  it('answers 400 for path mismatches, 403 for a non-recipient, 404 for an unknown task', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    const otherTask = '3f1c2a52-0000-4000-8000-000000000001';
    expect((await t.app2.request('PUT', `/v1/tasks/${otherTask}/results/${APP2}`, newResult(task, APP2, [APP1]))).status).toBe(400);
    expect((await t.app2.request('PUT', `/v1/tasks/${task.id}/results/app1.proxy2.broker`, newResult(task, APP2, [APP1]))).status).toBe(400);
    const outsider = new AppClient(t.app2.proxyUrl, 'app1.proxy2.broker');
    expect((await outsider.putResult(task.id, newResult(task, 'app1.proxy2.broker', [APP1]))).status).toBe(403);
    const ghost = { id: otherTask };
    expect((await t.app2.putResult(otherTask, newResult(ghost, APP2, [APP1]))).status).toBe(404);
  });

  it('lets only the creator read results (403), and answers 404 for an unknown task', async () => {
    const task = newTask(APP1, [APP2]);
    await t.app1.postTask(task);
    expect((await t.app2.get(`/v1/tasks/${task.id}/results`)).status).toBe(403);
    expect((await t.app1.get('/v1/tasks/3f1c2a52-0000-4000-8000-000000000002/results')).status).toBe(404);
  });
});
