/**
 * The OpenAPI document the proxy serves at /v1/openapi.json is a valid OpenAPI 3 document, and it is the truth:
 * a real request provokes every status it documents for every path, on a dev network, and each answer's
 * status, content type and body match the document. The last test fails if any documented answer was never seen.
 */
import { randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { join } from 'node:path';
import { rawUpgrade, startHttpService, type HttpServiceHandle } from '@beamline/devnet';
import { MAX_APP_REQUEST_BYTES } from '@beamline/domain';
import { AppClient, newResult, newTask } from './support/app-client';
import { startDelayingForwarder, type DelayingForwarder } from './support/delaying-forwarder';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { answerProblems, documentedAnswers, openApiProblems } from './support/openapi-check';

const PROXY_MAIN = join(__dirname, '..', 'dist', 'apps', 'proxy', 'src', 'main.js');
const SOCKET_TTL = '3s';
const BIG_BODY = 'x'.repeat(MAX_APP_REQUEST_BYTES + 1);

let t: TestNetwork;
let doc: Record<string, unknown>;
const seen = new Set<string>();

beforeAll(async () => {
  t = await startTestNetwork({ extraEnv: { proxy: { SOCKET_TTL, MAX_FILE_SIZE: '1MiB' } } });
  doc = (await (await fetch(`${t.app1.proxyUrl}/v1/openapi.json`)).json()) as Record<string, unknown>;
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

interface Call {
  key?: string | null;
  body?: string | object;
  headers?: Record<string, string>;
}

/** Sends `method path` as `client`'s app (or without a key: `key: null`) and checks the answer against `template`. */
async function call(client: AppClient, method: string, template: string, path: string, opts: Call = {}): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key !== null) headers.authorization = `ApiKey ${client.appId} ${opts.key ?? client.key}`;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(client.proxyUrl + path, { method, headers, body });
  const text = await res.text();
  return record(method, template, { status: res.status, contentType: res.headers.get('content-type') ?? undefined, body: text });
}

/** The same for the socket routes' `Upgrade: tcp` requests (raw HTTP/1.1: fetch cannot upgrade). */
async function upgrade(
  client: AppClient,
  method: 'GET' | 'POST',
  template: string,
  path: string,
  opts: { key?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; destroy(): void }> {
  const res = await rawUpgrade(client.proxyUrl, method, path, client.appId, { Upgrade: 'tcp', Connection: 'Upgrade', ...opts.headers }, opts.key ?? client.key);
  const contentType = /content-type:\s*([^\r\n]+)/i.exec(res.head)?.[1];
  const body = res.body === undefined ? '' : JSON.stringify(res.body);
  record(method, template, { status: res.status, contentType, body });
  return { status: res.status, destroy: () => res.socket.destroy() };
}

function record(method: string, template: string, answer: { status: number; contentType?: string; body: string }): { status: number; text: string } {
  expect(answerProblems(doc, method, template, answer)).toEqual([]);
  seen.add(`${method} ${template} ${answer.status}`);
  return { status: answer.status, text: answer.body };
}

describe('the document', () => {
  it('validates against the OpenAPI 3 specification (swagger-parser, with the official schema)', async () => {
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('is a valid OpenAPI 3 document: required fields, path parameters, every $ref resolving, every schema compiling', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(openApiProblems(doc)).toEqual([]);
    expect(Object.keys(doc.paths as object).sort()).toEqual([
      '/v1/files',
      '/v1/files/{id}',
      '/v1/health',
      '/v1/sockets',
      '/v1/sockets/{app_id}',
      '/v1/sockets/{socket_id}',
      '/v1/tasks',
      '/v1/tasks/{id}',
      '/v1/tasks/{id}/results',
      '/v1/tasks/{id}/results/{app_id}',
    ]);
    const scheme = (doc.components as { securitySchemes: Record<string, unknown> }).securitySchemes.ApiKey;
    expect(scheme).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
  });

  it('is served with a docs page at /docs, without authentication, whose assets are local', async () => {
    const page = await fetch(`${t.app1.proxyUrl}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const init = await fetch(`${t.app1.proxyUrl}/docs/swagger-ui-init.js`);
    expect(await init.text()).toContain('/v1/tasks/{id}/results/{app_id}'); // the document, embedded
    expect((await fetch(`${t.app1.proxyUrl}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  });
});

describe('every documented answer, provoked', () => {
  const tasks = '/v1/tasks';
  const task = '/v1/tasks/{id}';
  const results = '/v1/tasks/{id}/results';
  const result = '/v1/tasks/{id}/results/{app_id}';

  it('the task cycle: 201, 200, 206, 201/204, SSE', async () => {
    const created = newTask(APP1, [APP2]);
    expect((await call(t.app1, 'POST', tasks, tasks, { body: created })).status).toBe(201);
    expect((await call(t.app2, 'GET', tasks, `${tasks}?filter=todo`)).status).toBe(200);
    expect((await call(t.app2, 'GET', tasks, `${tasks}?filter=todo&wait_count=1000&wait_time=300ms`)).status).toBe(206);
    expect((await call(t.app2, 'GET', task, `${tasks}/${created.id}`)).status).toBe(200);
    const claimed = newResult(created, APP2, [APP1], { status: 'claimed', body: undefined });
    expect((await call(t.app2, 'PUT', result, `${tasks}/${created.id}/results/${APP2}`, { body: claimed })).status).toBe(201);
    expect((await call(t.app2, 'PUT', result, `${tasks}/${created.id}/results/${APP2}`, { body: newResult(created, APP2, [APP1]) })).status).toBe(204);
    expect((await call(t.app1, 'GET', results, `${tasks}/${created.id}/results`)).status).toBe(200);
    expect((await call(t.app1, 'GET', results, `${tasks}/${created.id}/results?wait_count=5&wait_time=300ms`)).status).toBe(206);
    const sse = await call(t.app1, 'GET', results, `${tasks}/${created.id}/results`, { headers: { accept: 'text/event-stream' } });
    expect(sse.text).toContain('event: new_result');
    const taskEvents = await call(t.app2, 'GET', tasks, `${tasks}?to=${APP2}&wait_time=300ms`, { headers: { accept: 'text/event-stream' } });
    expect(taskEvents.text).toContain('event: new_task');
    expect(taskEvents.text).toContain('event: wait_expired');
  });

  it('refusals of the task routes: 400, 401, 403, 404, 409, 413, 424', async () => {
    const created = newTask(APP1, [APP2]);
    await t.app1.postTask(created);
    const unknown = randomUUID();
    expect((await call(t.app1, 'POST', tasks, tasks, { body: '{' })).status).toBe(400);
    expect((await call(t.app1, 'POST', tasks, tasks, { body: created, key: null })).status).toBe(401);
    expect((await call(t.app1, 'POST', tasks, tasks, { body: { ...created, body: 'other' } })).status).toBe(409);
    expect((await call(t.app1, 'POST', tasks, tasks, { body: BIG_BODY })).status).toBe(413);
    expect((await call(t.app1, 'POST', tasks, tasks, { body: newTask(APP1, ['app1.proxy9.broker']) })).status).toBe(424);
    expect((await call(t.app1, 'GET', tasks, tasks)).status).toBe(400);
    expect((await call(t.app1, 'GET', tasks, `${tasks}?filter=todo`, { key: 'wrong' })).status).toBe(401);
    expect((await call(t.app1, 'GET', tasks, `${tasks}?from=${APP2}`)).status).toBe(403);
    expect((await call(t.app2, 'GET', task, `${tasks}/${created.id}?wait_count=2`)).status).toBe(400);
    expect((await call(t.app2, 'GET', task, `${tasks}/${created.id}`, { key: null })).status).toBe(401);
    expect((await call(t.app2, 'GET', task, `${tasks}/${unknown}`)).status).toBe(404);
    const answer = newResult(created, APP2, [APP1]);
    expect((await call(t.app2, 'PUT', result, `${tasks}/${unknown}/results/${APP2}`, { body: answer })).status).toBe(400);
    expect((await call(t.app2, 'PUT', result, `${tasks}/${created.id}/results/${APP2}`, { body: answer, key: null })).status).toBe(401);
    const stranger = t.app2AtProxy1;
    const strangers = newResult(created, stranger.appId, [APP1]);
    expect((await call(stranger, 'PUT', result, `${tasks}/${created.id}/results/${stranger.appId}`, { body: strangers })).status).toBe(403);
    const elsewhere = newResult({ id: unknown }, APP2, [APP1]);
    expect((await call(t.app2, 'PUT', result, `${tasks}/${unknown}/results/${APP2}`, { body: elsewhere })).status).toBe(404);
    expect((await call(t.app2, 'PUT', result, `${tasks}/${created.id}/results/${APP2}`, { body: BIG_BODY })).status).toBe(413);
    expect((await call(t.app1, 'GET', results, `${tasks}/${created.id}/results?wait_time=soon`)).status).toBe(400);
    expect((await call(t.app1, 'GET', results, `${tasks}/${created.id}/results`, { key: null })).status).toBe(401);
    expect((await call(t.app2, 'GET', results, `${tasks}/${created.id}/results`)).status).toBe(403);
    expect((await call(t.app1, 'GET', results, `${tasks}/${unknown}/results`)).status).toBe(404);
  });

  it('the socket routes: 101 both ways, 200, 206, 400, 401, 404, 410, 426', async () => {
    expect((await call(t.app2, 'GET', '/v1/sockets', '/v1/sockets?wait_count=1&wait_time=300ms')).status).toBe(206);
    const initiating = upgrade(t.app1, 'POST', '/v1/sockets/{app_id}', `/v1/sockets/${APP2}`, { headers: { metadata: '{"contract":1}' } });
    const listing = await call(t.app2, 'GET', '/v1/sockets', '/v1/sockets?wait_count=1&wait_time=5s');
    expect(listing.status).toBe(200);
    const id = (JSON.parse(listing.text) as { id: string }[])[0].id;
    const recipient = await upgrade(t.app2, 'GET', '/v1/sockets/{socket_id}', `/v1/sockets/${id}`);
    const initiator = await initiating;
    expect([initiator.status, recipient.status]).toEqual([101, 101]);
    initiator.destroy();
    recipient.destroy();
    expect((await upgrade(t.app1, 'POST', '/v1/sockets/{app_id}', `/v1/sockets/${APP2}`, { headers: { metadata: 'not json' } })).status).toBe(400);
    expect((await upgrade(t.app1, 'POST', '/v1/sockets/{app_id}', `/v1/sockets/${APP2}`, { key: 'wrong' })).status).toBe(401);
    expect((await upgrade(t.app1, 'POST', '/v1/sockets/{app_id}', `/v1/sockets/${APP2}`)).status).toBe(410); // nobody connects within SOCKET_TTL
    expect((await call(t.app1, 'POST', '/v1/sockets/{app_id}', `/v1/sockets/${APP2}`)).status).toBe(426);
    expect((await upgrade(t.app2, 'GET', '/v1/sockets/{socket_id}', `/v1/sockets/${randomUUID()}`)).status).toBe(404);
    expect((await upgrade(t.app2, 'GET', '/v1/sockets/{socket_id}', `/v1/sockets/${id}`, { key: 'wrong' })).status).toBe(401);
    expect((await call(t.app2, 'GET', '/v1/sockets/{socket_id}', `/v1/sockets/${id}`)).status).toBe(426);
    expect((await call(t.app2, 'GET', '/v1/sockets', '/v1/sockets?wait_time=soon')).status).toBe(400);
    expect((await call(t.app2, 'GET', '/v1/sockets', '/v1/sockets', { key: null })).status).toBe(401);
  }, 30_000);

  it('the file routes: 201, 200, 206, 204, SSE, and their refusals 400, 401, 404, 413, 424', async () => {
    const files = '/v1/files';
    const file = '/v1/files/{id}';
    const sent = await call(t.app1, 'POST', files, `${files}?to=${APP2}`, { body: 'a small file' });
    expect(sent.status).toBe(201);
    const id = (JSON.parse(sent.text) as { id: string }).id;
    expect((await call(t.app2, 'GET', files, `${files}?wait_count=1&wait_time=5s`)).status).toBe(200);
    expect((await call(t.app2, 'GET', files, `${files}?wait_count=1000&wait_time=300ms`)).status).toBe(206);
    const events = await call(t.app2, 'GET', files, `${files}?wait_time=300ms`, { headers: { accept: 'text/event-stream' } });
    expect(events.text).toContain('event: new_file');
    const whole = await call(t.app2, 'GET', file, `${files}/${id}`);
    expect([whole.status, whole.text]).toEqual([200, 'a small file']);
    const tail = await call(t.app2, 'GET', file, `${files}/${id}`, { headers: { range: 'bytes=8-' } });
    expect([tail.status, tail.text]).toEqual([206, 'file']);
    expect((await call(t.app2, 'DELETE', file, `${files}/${id}`)).status).toBe(204);

    expect((await call(t.app1, 'POST', files, `${files}?to=not-an-app`, { body: 'x' })).status).toBe(400);
    expect((await call(t.app1, 'POST', files, `${files}?to=${APP2}`, { body: 'x', key: null })).status).toBe(401);
    expect((await call(t.app1, 'POST', files, `${files}?to=${APP2}`, { body: 'x'.repeat(2 ** 20 + 1) })).status).toBe(413);
    expect((await call(t.app1, 'POST', files, `${files}?to=app1.proxy9.broker`, { body: 'x' })).status).toBe(424);
    expect((await call(t.app2, 'GET', files, `${files}?wait_time=soon`)).status).toBe(400);
    expect((await call(t.app2, 'GET', files, files, { key: null })).status).toBe(401);
    expect((await call(t.app2, 'GET', file, `${files}/not-a-uuid`)).status).toBe(400);
    expect((await call(t.app2, 'GET', file, `${files}/${id}`, { headers: { range: 'bytes=0-9' } })).status).toBe(400);
    expect((await call(t.app2, 'GET', file, `${files}/${id}`, { key: null })).status).toBe(401);
    expect((await call(t.app2, 'GET', file, `${files}/${id}`)).status).toBe(404); // dropped
    expect((await call(t.app2, 'DELETE', file, `${files}/not-a-uuid`)).status).toBe(400);
    expect((await call(t.app2, 'DELETE', file, `${files}/${id}`, { key: null })).status).toBe(401);
    expect((await call(t.app2, 'DELETE', file, `${files}/${randomUUID()}`)).status).toBe(404);
  });

  it('health: 200 when ready, 503 while a proxy is not (its certificate is not in the directory)', async () => {
    expect((await call(t.app1, 'GET', '/v1/health', '/v1/health')).status).toBe(200);
    let unenrolled: HttpServiceHandle | undefined;
    try {
      // No healthPath: ready once it listens, which it does before it finds its certificate (never, here).
      unenrolled = await startHttpService({ name: 'proxy9', script: PROXY_MAIN, env: { ...proxyEnv(t.net.brokerUrl), PROXY_ID: 'proxy9.broker' } });
      const client = new AppClient(unenrolled.url, 'app1.proxy9.broker');
      expect((await call(client, 'GET', '/v1/health', '/v1/health')).status).toBe(503);
    } finally {
      await unenrolled?.stop();
    }
  });

  describe('through a proxy whose broker is busy, slow, then gone', () => {
    let forwarder: DelayingForwarder;
    let proxy: HttpServiceHandle;
    let app: AppClient;
    let socketId: string;
    const someTask = newTask(APP1, [APP2]);

    beforeAll(async () => {
      await t.app1.postTask(someTask);
      socketId = randomUUID();
      forwarder = await startDelayingForwarder(t.net.brokerUrl);
      proxy = await startHttpService({ name: 'proxy1-slow', script: PROXY_MAIN, env: proxyEnv(forwarder.url), healthPath: '/v1/health' });
      app = new AppClient(proxy.url, APP1);
    }, 60_000);

    afterAll(async () => {
      await proxy?.stop();
      await forwarder?.close();
    });

    /** One request per route, each answered by the broker (or not) as the forwarder lets it. */
    const everyRoute = (opts: { connect: boolean }): Promise<unknown>[] => [
      call(app, 'POST', tasks, tasks, { body: newTask(APP1, [APP2]) }),
      call(app, 'GET', tasks, `${tasks}?filter=todo`),
      call(app, 'GET', task, `${tasks}/${someTask.id}`),
      call(app, 'PUT', result, `${tasks}/${someTask.id}/results/${APP1}`, { body: newResult(someTask, APP1, [APP1]) }),
      call(app, 'GET', results, `${tasks}/${someTask.id}/results`),
      call(app, 'GET', '/v1/sockets', '/v1/sockets'),
      upgrade(app, 'POST', '/v1/sockets/{app_id}', `/v1/sockets/${APP2}`),
      ...(opts.connect ? [upgrade(app, 'GET', '/v1/sockets/{socket_id}', `/v1/sockets/${socketId}`)] : []),
      call(app, 'POST', '/v1/files', `/v1/files?to=${APP2}`, { body: 'a file' }),
      call(app, 'GET', '/v1/files', '/v1/files'),
      call(app, 'GET', '/v1/files/{id}', `/v1/files/${socketId}`),
      call(app, 'DELETE', '/v1/files/{id}', `/v1/files/${socketId}`),
    ];

    it('429 too_many_waiting on every waiting route while the app holds its one slot (MAX_WAITING_PER_APP=1)', async () => {
      const holding = app.get(`${tasks}?filter=todo&wait_count=1000&wait_time=3s`);
      await new Promise((r) => setTimeout(r, 300));
      for (const [template, path] of [
        [tasks, `${tasks}?filter=todo&wait_time=1s`],
        [task, `${tasks}/${someTask.id}?wait_time=1s`],
        [results, `${tasks}/${someTask.id}/results?wait_time=1s`],
        ['/v1/sockets', '/v1/sockets?wait_time=1s'],
        ['/v1/files', '/v1/files?wait_time=1s'],
      ])
        expect((await call(app, 'GET', template, path)).status).toBe(429);
      expect((await holding).status).toBe(206);
    });

    // Not a socket connect: its upgrade to the broker has no deadline of its own (and the forwarder cannot upgrade).
    it('504 broker_timeout on every route but a socket connect while the broker takes longer than BROKER_TIMEOUT', async () => {
      forwarder.delay(() => true, 4_000);
      const answers = (await Promise.all(everyRoute({ connect: false }))) as { status: number }[];
      forwarder.delay(() => false, 0);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 504));
    }, 30_000);

    it('502 on every route once the broker is unreachable (after BROKER_RETRY_BUDGET)', async () => {
      await forwarder.close();
      const answers = (await Promise.all(everyRoute({ connect: true }))) as { status: number }[];
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 502));
    }, 30_000);
  });
});

describe('coverage', () => {
  it('saw every status the document lists, on every path', () => {
    expect(documentedAnswers(doc).filter((answer) => !seen.has(answer))).toEqual([]);
  });
});

/** A second proxy1 process (same identity and key) reaching the broker at `brokerUrl`, with short timeouts. */
function proxyEnv(brokerUrl: string): Record<string, string> {
  return {
    BROKER_URL: brokerUrl,
    PROXY_ID: 'proxy1.broker',
    PRIVKEY_FILE: t.net.pki.proxies[0].keyFile,
    ROOTCERT_FILE: t.net.pki.rootCertFile,
    APP_app1_KEY: 'App1Secret',
    BROKER_TIMEOUT: '1s',
    BROKER_RETRY_BUDGET: '2s',
    MAX_WAITING_PER_APP: '1',
    SOCKET_TTL,
    LOG_LEVEL: 'error',
  };
}
