import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BeamClient } from './client';
import { BeamAbortError, BeamError, BeamHttpError, BeamNetworkError } from './errors';
import { startLocalServer, eventually, hangUp, json, REFUSING_URL, type Handler, type LocalServer } from './testing/local-server';
import { CLIENT_VERSION } from './version';

const APP = 'app1.proxy1.broker';
const PEER = 'app2.proxy2.broker';
const TASK_ID = '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8';

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function clientFor(handler: Handler, options: ConstructorParameters<typeof BeamClient>[3] = {}): Promise<BeamClient> {
  server = await startLocalServer(handler);
  return new BeamClient(APP, 'App1Secret', server.url, { retryBaseDelayMs: 1, retryMaxDelayMs: 5, ...options });
}

const created: Handler = (req, res) => res.writeHead(201, { location: `/v1/tasks/${(JSON.parse(req.body) as { id: string }).id}` }).end();
const bodyOf = (n: number): Record<string, unknown> => JSON.parse(server?.requests[n].body ?? '') as Record<string, unknown>;

describe('postTask', () => {
  it("posts as the app, fills in Beam's defaults, and sends a string body unchanged", async () => {
    const client = await clientFor(created);
    const posted = await client.postTask({ to: [PEER], body: 'What is the answer?' });
    const req = server?.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.url).toBe('/v1/tasks');
    expect(req?.headers.authorization).toBe(`ApiKey ${APP} App1Secret`);
    expect(req?.headers['user-agent']).toBe(`beamline-client/${CLIENT_VERSION} node/${process.version}`);
    expect(bodyOf(0)).toEqual({
      id: posted.id,
      from: APP,
      to: [PEER],
      body: 'What is the answer?',
      ttl: '60s',
      failure_strategy: { retry: { backoff_millisecs: 1000, max_tries: 5 } },
      metadata: null,
    });
    expect(posted.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(posted.location).toBe(`/v1/tasks/${posted.id}`);
  });

  it("keeps the caller's fields and sends a non-string body (or any body in 'json' mode) as JSON text", async () => {
    const client = await clientFor(created, { bodies: 'json' });
    await client.postTask({ id: TASK_ID, to: [PEER], body: 'plain', ttl: '5m', failure_strategy: 'discard', metadata: { k: 1 } });
    await client.postTask({ to: [PEER], body: { question: 42 } }, { bodies: 'string' });
    expect(bodyOf(0)).toMatchObject({ id: TASK_ID, body: '"plain"', ttl: '5m', failure_strategy: 'discard', metadata: { k: 1 } });
    expect(bodyOf(1).body).toBe('{"question":42}');
  });

  it('retries a 503 and a hang-up, sending the same task each time', async () => {
    const client = await clientFor((req, res, n) =>
      n === 0 ? json(res, 503, { error: 'starting', message: 'not ready' }) : n === 1 ? hangUp(res) : created(req, res, n),
    );
    const posted = await client.postTask({ to: [PEER], body: 'x' });
    expect(server?.requests).toHaveLength(3);
    expect(new Set(server?.requests.map((r) => r.body)).size).toBe(1);
    expect(posted.id).toBe(bodyOf(2).id);
  });

  it('fails at once on a 409 to a first attempt: another task holds the id', async () => {
    const client = await clientFor((_req, res) => json(res, 409, { error: 'task_exists', message: 'id: a task with this id exists' }));
    const err = await client.postTask({ id: TASK_ID, to: [PEER], body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamHttpError);
    expect(err).toMatchObject({ status: 409, code: 'task_exists' });
    expect((err as Error).message).toBe('POST /v1/tasks: 409 task_exists: id: a task with this id exists');
    expect(server?.requests).toHaveLength(1);
  });

  it('takes a 409 to a retry as success when the stored task is the one it sent (its first attempt arrived)', async () => {
    let stored: Record<string, unknown> | undefined;
    const client = await clientFor((req, res, n) => {
      if (n === 0) {
        stored = { ...(JSON.parse(req.body) as Record<string, unknown>), body: '<encrypted>', ttl: '59s' };
        return hangUp(res); // the task was created, the answer lost
      }
      if (req.method === 'POST') return json(res, 409, { error: 'task_exists', message: 'exists' });
      json(res, 200, stored);
    });
    const posted = await client.postTask({ id: TASK_ID, to: [PEER], body: 'x', metadata: { b: 2, a: 1 } });
    expect(posted).toEqual({ id: TASK_ID, location: `/v1/tasks/${TASK_ID}` });
    expect(server?.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/tasks', 'POST /v1/tasks', `GET /v1/tasks/${TASK_ID}`]);
  });

  it('keeps a 409 to a retry as an error when the stored task differs', async () => {
    const client = await clientFor((req, res, n) => {
      if (n === 0) return hangUp(res);
      if (req.method === 'POST') return json(res, 409, { error: 'task_exists', message: 'exists' });
      json(res, 200, { id: TASK_ID, from: APP, to: ['someone.else.broker'], body: '<encrypted>', ttl: '1s', failure_strategy: 'discard', metadata: null });
    });
    await expect(client.postTask({ id: TASK_ID, to: [PEER], body: 'x' })).rejects.toMatchObject({ status: 409, code: 'task_exists' });
  });

  it('names a 424 failed_dependency and keeps the proxy ids it lists', async () => {
    const client = await clientFor((_req, res) => json(res, 424, ['proxy4.broker']));
    await expect(client.postTask({ to: ['app.proxy4.broker'], body: 'x' })).rejects.toMatchObject({
      status: 424,
      code: 'failed_dependency',
      details: ['proxy4.broker'],
    });
  });

  it('does not retry 429 and reports its Retry-After', async () => {
    const client = await clientFor((_req, res) =>
      json(res, 429, { error: 'quota_exceeded', quota: 'write_rate', message: 'slow down' }, { 'retry-after': '3' }),
    );
    await expect(client.postTask({ to: [PEER], body: 'x' })).rejects.toMatchObject({ status: 429, code: 'quota_exceeded', retryAfterMs: 3000 });
    expect(server?.requests).toHaveLength(1);
  });
});

describe('network failures', () => {
  it('retries a refused connection, then fails with a BeamNetworkError naming ECONNREFUSED', async () => {
    const client = new BeamClient(APP, 'k', REFUSING_URL, { retries: 2, retryBaseDelayMs: 1 });
    const started = Date.now();
    const err = await client.pollPendingTasks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamNetworkError);
    expect(err).toMatchObject({ code: 'ECONNREFUSED', status: undefined });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('treats an answer cut off before its end as a failure and asks again', async () => {
    const client = await clientFor((_req, res, n) => {
      if (n > 0) return json(res, 200, []);
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('[{"id":');
      setTimeout(() => hangUp(res), 10);
    });
    await expect(client.pollPendingTasks()).resolves.toEqual([]);
    expect(server?.requests).toHaveLength(2);
  });
});

describe('long polls', () => {
  const task = { id: TASK_ID, from: PEER, to: [APP], body: '{"n":1}', ttl: '57s', failure_strategy: 'discard', metadata: null };

  it('asks for todo tasks with wait_count and wait_time, and takes 206 (time ran out) as success', async () => {
    const client = await clientFor((_req, res) => json(res, 206, [task]));
    const tasks = await client.pollPendingTasks<{ n: number }>({ waitCount: 2, waitTimeMs: 1500, bodies: 'json' });
    expect(server?.requests[0].url).toBe('/v1/tasks?filter=todo&wait_count=2&wait_time=1500ms');
    expect(tasks).toEqual([{ ...task, body: { n: 1 } }]);
  });

  it('asks a retry only for what is left of the wait', async () => {
    const client = await clientFor((_req, res, n) => (n === 0 ? setTimeout(() => json(res, 502, { error: 'broker_unreachable' }), 300) : json(res, 200, [])));
    await client.pollResults(TASK_ID, { waitCount: 1, waitTimeMs: 5000 });
    const waits = server?.requests.map((r) => Number(/wait_time=(\d+)ms/.exec(r.url)?.[1]));
    expect(waits?.[0]).toBe(5000);
    expect(waits?.[1]).toBeLessThanOrEqual(4700);
    expect(server?.requests[1].url).toMatch(new RegExp(`^/v1/tasks/${TASK_ID}/results\\?wait_count=1&wait_time=`));
  });

  it('aborts a waiting poll at once and closes its connection', async () => {
    const client = await clientFor(() => undefined); // never answers
    const controller = new AbortController();
    const polling = client.pollResults(TASK_ID, { waitCount: 1, signal: controller.signal });
    await eventually(() => server?.requests.length === 1);
    controller.abort(new Error('user gave up'));
    const err = await polling.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamAbortError);
    expect(err).toBeInstanceOf(BeamError);
    expect((err as Error).cause).toEqual(new Error('user gave up'));
    await eventually(() => server?.closedConnections() === 1);
  });

  it('rejects bad wait options before sending anything', async () => {
    const client = await clientFor((_req, res) => json(res, 200, []));
    await expect(client.pollPendingTasks({ waitCount: -1 })).rejects.toThrow(RangeError);
    await expect(client.listSockets({ waitTimeMs: Number.NaN })).rejects.toThrow(RangeError);
    expect(server?.requests).toHaveLength(0);
  });
});

describe('putResult and getTask', () => {
  it('puts to the task and app in the path, reports created (201) or replaced (204), and sends a claim without body', async () => {
    const client = await clientFor((_req, res, n) => res.writeHead(n === 0 ? 201 : 204).end());
    expect(await client.putResult({ to: [PEER], task: TASK_ID, status: 'claimed' })).toBe('created');
    expect(await client.putResult({ to: [PEER], task: TASK_ID, status: 'succeeded', body: 'The answer is 42' })).toBe('replaced');
    expect(server?.requests[0].url).toBe(`/v1/tasks/${TASK_ID}/results/${APP}`);
    expect(bodyOf(0)).toEqual({ from: APP, to: [PEER], task: TASK_ID, status: 'claimed', metadata: null });
    expect(bodyOf(1)).toMatchObject({ status: 'succeeded', body: 'The answer is 42' });
  });

  it('reads one task, waiting for it only when asked to, and reports 404 as not_found', async () => {
    const client = await clientFor((_req, res) => json(res, 404, { error: 'not_found', message: 'no such task' }));
    await expect(client.getTask(TASK_ID)).rejects.toMatchObject({ status: 404, code: 'not_found' });
    await expect(client.getTask(TASK_ID, { waitTimeMs: 10 })).rejects.toMatchObject({ status: 404 });
    expect(server?.requests.map((r) => r.url)).toEqual([`/v1/tasks/${TASK_ID}`, `/v1/tasks/${TASK_ID}?wait_time=10ms`]);
  });
});

describe('the package', () => {
  it("has the repository's version", () => {
    const version = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
    expect(version(join(__dirname, '..'))).toBe(CLIENT_VERSION);
    expect(version(join(__dirname, '..', '..', '..'))).toBe(CLIENT_VERSION);
  });
});
