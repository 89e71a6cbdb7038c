/**
 * Hostile input on every route of both proxies and of broker-api (docs/api.md "Errors and limits"): malformed
 * JSON, wrong types, garbage fields, bad ids and durations, odd numbers, oversized bodies, garbage headers,
 * repeated query parameters, unknown routes and methods, broken HTTP. Every answer must be < 500, every 4xx
 * a JSON `{"error","message"}` (424: the JSON array of ProxyIds), no process may die, and a normal task cycle
 * must still work afterwards.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_REQUESTS=<n> changes how many generated requests are sent (default 10,000).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { randomUUID, type KeyObject } from 'node:crypto';
import { MESSAGE_JWS_TYP, privateKeyFromPem, REQUEST_JWS_TYP, signRequest } from '@beamline/crypto';
import { MAX_APP_REQUEST_BYTES } from '@beamline/domain';
import { signCompactJws } from '../libs/crypto/src/jws-core';
import { newResult, newTask } from './support/app-client';
import {
  bodyFor,
  deepJson,
  fuzzValue,
  headerValue,
  judge,
  mutateObject,
  queryFor,
  queryString,
  rawRequest,
  segment,
  toJsonText,
  type Answer,
  type HostileRequest,
} from './support/hostile';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { isAlive } from './support/processes';

const TOTAL_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_000);
const BATCH = 48;
const UPGRADES = Number(process.env.FUZZ_UPGRADES ?? 1_000);
const IN_FLIGHT = 24;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const MSG = '@@MSG@@';

let t: TestNetwork;
let bases: Record<string, string>;
let signers: Record<string, { privateKey: KeyObject; kid: string; proxyId: string }>;
let pidsAtStart: Map<string, number>;
/** A live task from app1@proxy1 to app2@proxy2 and app2@proxy1 that the fuzz reads and answers. */
let fixture: ReturnType<typeof newTask>;

beforeAll(async () => {
  t = await startTestNetwork();
  bases = { proxy1: t.net.proxies[0].url, proxy2: t.net.proxies[1].url, broker: t.net.brokerUrl };
  signers = Object.fromEntries(
    t.net.pki.proxies.map((p, i) => [`proxy${i + 1}`, { privateKey: privateKeyFromPem(readFileSync(p.keyFile, 'utf8')), kid: p.serial, proxyId: p.id }]),
  );
  pidsAtStart = new Map([...t.net.services].map(([name, s]) => [name, s.pid]));
  fixture = newTask(APP1, [APP2, 'app2.proxy1.broker'], { ttl: '10m' });
  expect((await t.app1.postTask(fixture)).status).toBe(201);
}, 120_000);

afterAll(async () => {
  await t?.net.stop();
});

// ---------------------------------------------------------------------------------------------------------
// Sending and judging
// ---------------------------------------------------------------------------------------------------------

interface Failure {
  request: string;
  problem: string;
}
const failures: Failure[] = [];
let sent = 0;
/** `<label> <status> <error code>` → count: shows how deep the fuzz got (401s stop at the door, 400s name fields). */
const histogram = new Map<string, number>();

function describeRequest(r: HostileRequest): string {
  const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : `<${r.body.length} bytes>`;
  const headers = Object.entries(r.headers)
    .map(([k, v]) => `${k}: ${v.slice(0, 60)}`)
    .join('; ');
  return `[${r.label}] ${r.method} ${r.target}${r.path.slice(0, 200)} {${headers}}${r.signAs ? ` signed by ${r.signAs}` : ''} body=${body.slice(0, 200)}`;
}

async function send(r: HostileRequest): Promise<Answer> {
  const url = new URL(bases[r.target] + r.path);
  let body = r.body;
  const headers = { ...r.headers };
  if (r.signAs) {
    if (typeof body === 'string' && body.includes(MSG)) {
      body = body
        .split(JSON.stringify(MSG))
        .join(JSON.stringify(await signCompactJws(toJsonText(messageFor(r)), signers[r.signAs].privateKey, signers[r.signAs].kid, MESSAGE_JWS_TYP)));
    }
    // Sign what fetch will really send: the WHATWG URL normalises `..` and the like.
    headers.authorization = await signRequest(
      { method: r.method, pathAndQuery: url.pathname + url.search, body: typeof body === 'string' ? Buffer.from(body) : body },
      signers[r.signAs],
    );
  }
  const res = await fetch(url, {
    method: r.method,
    headers,
    body: r.method === 'GET' || r.method === 'HEAD' ? undefined : body,
    signal: AbortSignal.timeout(20_000),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** The sealed message a signed broker request carries where its body says "@@MSG@@" (stashed by the generator). */
const messagePayloads = new WeakMap<HostileRequest, object>();
function messageFor(r: HostileRequest): object {
  return messagePayloads.get(r) ?? {};
}

async function check(r: HostileRequest): Promise<void> {
  sent++;
  let answer: Answer;
  try {
    answer = await send(r);
  } catch (err) {
    failures.push({ request: describeRequest(r), problem: `no answer: ${(err as Error).message}` });
    return;
  }
  let code = '';
  try {
    code = String((JSON.parse(answer.text) as { error?: unknown }).error ?? '');
  } catch {
    // not JSON: judged below
  }
  const key = `${r.label} ${answer.status} ${code}`;
  histogram.set(key, (histogram.get(key) ?? 0) + 1);
  const problem = judge(r, answer);
  if (problem) failures.push({ request: describeRequest(r), problem });
}

async function runPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Request generators
// ---------------------------------------------------------------------------------------------------------

/** fetch refuses to send CONNECT, TRACE and TRACK; the raw-socket cases below cover CONNECT. */
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'PROPFIND', 'FOO'];

/** Garbage in the headers apps and proxies send (in about one request of four). */
const someHeaders = fc.record(
  {
    'content-type': fc.oneof(
      fc.constantFrom(
        'application/json',
        'text/plain; charset=bogus',
        'application/json; charset=utf-16',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        '*/*',
        ';;;',
      ),
      headerValue,
    ),
    accept: fc.oneof(fc.constantFrom('text/event-stream', 'application/json', '*/*', 'text/html', 'text/event-stream;q=0'), headerValue),
    'last-event-id': fc.oneof(fc.constantFrom('0', '-1', '1e309', '99999999999999999999', 'NaN', ' 5', 'abc'), headerValue),
    'content-encoding': fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus', 'gzip, gzip'),
    metadata: headerValue,
    'x-forwarded-for': headerValue,
  },
  { requiredKeys: [] },
);
const extraHeaders = fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: someHeaders });

function apiKeyAuth(appId: string): fc.Arbitrary<Record<string, string>> {
  return fc.oneof(
    { weight: 12, arbitrary: fc.constant({ authorization: `ApiKey ${appId} App1Secret` }) },
    { weight: 1, arbitrary: fc.constant({}) },
    { weight: 1, arbitrary: headerValue.map((v) => ({ authorization: v })) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          `ApiKey ${appId} wrong`,
          `ApiKey ${appId}`,
          'ApiKey',
          `apikey ${appId} App1Secret`,
          `ApiKey  ${appId}   App1Secret  `,
          `Bearer x`,
          `ApiKey app1.proxy9.broker App1Secret`,
          `ApiKey ${'a'.repeat(300)} App1Secret`,
        )
        .map((v) => ({ authorization: v })),
    },
  );
}

/** Requests an app sends to its proxy: `proxy` is 'proxy1' (caller app1) or 'proxy2' (caller app2). */
function proxyRequest(proxy: 'proxy1' | 'proxy2'): fc.Arbitrary<HostileRequest> {
  const caller = proxy === 'proxy1' ? APP1 : APP2;
  const ids = [fixture.id, randomUUID()];
  const apps = [caller, APP1, APP2];
  const taskTemplate = {
    id: randomUUID(),
    from: caller,
    to: ['app9.proxy2.broker'],
    body: 'fuzz',
    failure_strategy: { retry: { backoff_millisecs: 1000, max_tries: 5 } },
    ttl: '3s',
    metadata: { kind: 'fuzz' },
  };
  const resultTemplate = { from: caller, to: [APP1], task: fixture.id, status: 'succeeded', body: 'fuzz answer', metadata: null };
  const route = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        label: fc.constant('create task'),
        method: fc.constant('POST'),
        path: fc.constant('/v1/tasks'),
        body: fc.uuid().chain((id) => bodyFor({ ...taskTemplate, id })),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({
        label: fc.constant('list tasks'),
        method: fc.constant('GET'),
        path: fc
          .tuple(
            fc.constantFrom<[string, string][]>([], [['filter', 'todo']], [['from', caller]], [['to', caller]]),
            queryFor(['from', 'to', 'filter', 'wait_count', 'wait_time']),
          )
          .map(([base, q]) => `/v1/tasks${queryString({ pairs: [...base, ...q.pairs], garbage: q.garbage })}`),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        label: fc.constant('get task'),
        method: fc.constant('GET'),
        path: fc.tuple(segment(ids), queryFor(['wait_count', 'wait_time'])).map(([id, q]) => `/v1/tasks/${id}${queryString(q)}`),
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        label: fc.constant('put result'),
        method: fc.constant('PUT'),
        path: fc.oneof(
          fc.constant(`/v1/tasks/${fixture.id}/results/${caller}`),
          fc.tuple(segment(ids), segment(apps)).map(([id, app]) => `/v1/tasks/${id}/results/${app}`),
        ),
        body: bodyFor(resultTemplate),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        label: fc.constant('results'),
        method: fc.constant('GET'),
        path: fc.tuple(segment(ids), queryFor(['wait_count', 'wait_time'])).map(([id, q]) => `/v1/tasks/${id}/results${queryString(q)}`),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        label: fc.constant('sockets'),
        method: fc.constantFrom('GET', 'POST'),
        path: fc.oneof(
          queryFor(['wait_count', 'wait_time']).map((q) => `/v1/sockets${queryString(q)}`),
          segment(apps).map((a) => `/v1/sockets/${a}`),
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ label: fc.constant('health'), method: fc.constant('GET'), path: queryFor(['x']).map((q) => `/v1/health${queryString(q)}`) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        label: fc.constant('any method'),
        method: fc.constantFrom(...METHODS),
        path: fc.constantFrom(
          '/v1/tasks',
          `/v1/tasks/${fixture.id}`,
          `/v1/tasks/${fixture.id}/results`,
          `/v1/tasks/${fixture.id}/results/${caller}`,
          '/v1/health',
          '/v1/sockets',
          '/',
        ),
        body: fc.option(fuzzValue.map(toJsonText), { nil: undefined }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        label: fc.constant('any path'),
        method: fc.constantFrom(...METHODS),
        path: fc.array(segment(['v1', 'tasks', 'results', 'health', fixture.id]), { maxLength: 6 }).map((s) => `/${s.join('/')}`),
      }),
    },
  );
  return fc.tuple(route, apiKeyAuth(caller), extraHeaders).map(([r, auth, extra]) => ({
    target: proxy,
    method: r.method,
    path: r.path,
    body: 'body' in r ? r.body : undefined,
    headers: { ...extra, ...auth },
    label: `${proxy} ${r.label}`,
  }));
}

const sealedTaskTemplate = (from: string): Record<string, unknown> => ({
  v: 2,
  id: randomUUID(),
  from,
  to: ['app9.proxy2.broker'],
  encrypted: 'AAAA',
  encryption_keys: ['AAAA'],
  key_commitment: 'AAAA',
  failure_strategy: 'discard',
  ttl: '3s',
  created: Date.now(),
  metadata: null,
  digest: 'fuzz',
});
const socketRequestTemplate = (from: string): Record<string, unknown> => ({
  id: randomUUID(),
  from,
  to: ['app9.proxy9.broker'],
  ttl: '3s',
  metadata: { kind: 'fuzz' },
  eph: 'A'.repeat(43),
});
const sealedResultTemplate = (from: string): Record<string, unknown> => ({
  v: 2,
  task: fixture?.id,
  from,
  to: [APP1],
  status: 'tempfailed',
  created: Date.now(),
  encrypted: 'AAAA',
  encryption_keys: ['AAAA'],
  key_commitment: 'AAAA',
  metadata: null,
});

/** Garbage `Authorization` for broker-api: missing, other schemes, malformed or forged JWS. */
function brokerGarbageAuth(): fc.Arbitrary<Record<string, string>> {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const kid = (): string => signers.proxy1.kid;
  return fc.oneof(
    fc.constant({}),
    headerValue.map((v) => ({ authorization: v })),
    fc
      .constantFrom('BeamlineSig', 'BeamlineSig x', 'BeamlineSig a.b.c', 'BeamlineSig ...', 'Basic Og==', `ApiKey ${APP1} App1Secret`)
      .map((v) => ({ authorization: v })),
    fc.tuple(fuzzValue, fuzzValue).map(([h, p]) => ({ authorization: `BeamlineSig ${b64(h)}.${b64(p)}.c2ln` })),
    fc
      .constantFrom('__proto__', 'constructor', '', 'x'.repeat(1000))
      .map((k) => ({ authorization: `BeamlineSig ${b64({ alg: 'PS256', kid: k, typ: REQUEST_JWS_TYP })}.e30.c2ln` })),
    fc.constant(0).map(() => ({
      authorization: `BeamlineSig ${b64({ alg: 'none', kid: kid(), typ: REQUEST_JWS_TYP })}.${b64({ iss: 'proxy1.broker', m: 'GET', p: '/v1/tasks', d: '', t: Date.now(), n: 'x' })}.`,
    })),
  );
}

/** Requests a (possibly hostile) proxy sends to broker-api. */
function brokerRequest(): fc.Arbitrary<{ req: HostileRequest; payload?: object }> {
  const apps = [APP1, APP2, 'app2.proxy1.broker'];
  const ids = [fixture.id, randomUUID()];
  /** Query strings that usually name a valid acting app (and for listings a filter), then add fuzz. */
  const withApp = (names: string[], listing = false): fc.Arbitrary<string> =>
    fc
      .tuple(
        fc.option(fc.constantFrom(...apps), { freq: 4, nil: undefined }),
        listing ? fc.constantFrom<[string, string][]>([], [['filter', 'todo']], [['from', APP1]], [['to', APP1]]) : fc.constant([]),
        queryFor(names),
      )
      .map(([app, base, q]) => queryString({ pairs: [...(app ? ([['beam_app', app]] as [string, string][]) : []), ...base, ...q.pairs], garbage: q.garbage }));
  /** A `{"message": ...}` body: the message is a garbage value, or a real signature over a mutated sealed message. */
  const messageBody = (template: Record<string, unknown>): fc.Arbitrary<{ body?: string | Uint8Array; payload?: object }> =>
    fc.oneof(
      { weight: 6, arbitrary: mutateObject(template).map((payload) => ({ body: toJsonText({ message: MSG }), payload: payload as object })) },
      { weight: 1, arbitrary: fc.constant({ body: toJsonText({ message: MSG }), payload: template }) },
      { weight: 3, arbitrary: fuzzValue.map((m) => ({ body: toJsonText({ message: m }) })) },
      { weight: 1, arbitrary: mutateObject({ message: MSG }).map((b) => ({ body: toJsonText(b), payload: template })) },
      { weight: 1, arbitrary: bodyFor({ message: 'x.y.z' }).map((body) => ({ body })) },
    );
  const signedRoute = fc.oneof(
    {
      weight: 5,
      arbitrary: fc
        .tuple(fc.constantFrom(APP1, 'app2.proxy1.broker', APP2), fc.constant(0))
        .chain(([from]) => messageBody(sealedTaskTemplate(from)).map((m) => ({ label: 'create task', method: 'POST', path: '/v1/tasks', ...m }))),
    },
    {
      weight: 4,
      arbitrary: fc
        .constantFrom('app2.proxy1.broker', 'app2.proxy1.broker', APP2, APP1)
        .chain((from) =>
          fc.tuple(
            fc.oneof(
              fc.constant(`/v1/tasks/${fixture.id}/results/${from}`),
              fc.tuple(segment(ids), segment(apps)).map(([id, app]) => `/v1/tasks/${id}/results/${app}`),
            ),
            messageBody(sealedResultTemplate(from)),
          ),
        )
        .map(([path, m]) => ({ label: 'put result', method: 'PUT', path, ...m })),
    },
    {
      weight: 3,
      arbitrary: withApp(['beam_app', 'from', 'to', 'filter', 'wait_count', 'wait_time', 'min_seq'], true).map((q) => ({
        label: 'list tasks',
        method: 'GET',
        path: `/v1/tasks${q}`,
      })),
    },
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(APP1, 'app2.proxy1.broker', APP2)
        .chain((from) => messageBody(socketRequestTemplate(from)).map((m) => ({ label: 'create socket', method: 'POST', path: '/v1/sockets', ...m }))),
    },
    {
      weight: 1,
      arbitrary: withApp(['beam_app', 'wait_count', 'wait_time', 'min_seq']).map((q) => ({ label: 'list sockets', method: 'GET', path: `/v1/sockets${q}` })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(segment(ids), withApp(['beam_app', 'wait_count', 'wait_time', 'min_seq']))
        .map(([id, q]) => ({ label: 'get task', method: 'GET', path: `/v1/tasks/${id}${q}` })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(segment(ids), withApp(['beam_app', 'wait_count', 'wait_time', 'min_seq']))
        .map(([id, q]) => ({ label: 'results', method: 'GET', path: `/v1/tasks/${id}/results${q}` })),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        label: fc.constant('any method'),
        method: fc.constantFrom(...METHODS.filter((m) => m !== 'HEAD')),
        path: fc.constantFrom('/v1/tasks', `/v1/tasks/${fixture.id}`, `/v1/tasks/${fixture.id}/results`, '/v1/pki/certs', '/v1/health'),
      }),
    },
  );
  const publicRoute = fc.oneof(
    fc.record({
      label: fc.constant('pki'),
      method: fc.constant('GET'),
      path: fc.oneof(
        fc.constant('/v1/pki/certs'),
        fc.constant('/v1/pki/certs/im-ca'),
        segment([signers.proxy1.kid, signers.proxy1.kid.toUpperCase()]).map((s) => `/v1/pki/certs/by_serial/${s}`),
      ),
    }),
    fc.record({
      label: fc.constant('monitoring'),
      method: fc.constant('GET'),
      path: fc.oneof(
        fc.constant('/v1/health'),
        fc.constant('/v1/health/proxies'),
        segment(['proxy1.broker', 'proxy9.broker']).map((s) => `/v1/health/proxies/${s}`),
      ),
    }),
    fc.record({
      label: fc.constant('any path'),
      method: fc.constantFrom(...METHODS),
      path: fc.array(segment(['v1', 'tasks', 'pki', 'certs', 'health', 'proxies']), { maxLength: 5 }).map((s) => `/${s.join('/')}`),
    }),
  );
  const monitoringAuth = fc.oneof(
    fc.constant({}),
    fc
      .constantFrom(':SuperSecretKey', 'x:SuperSecretKey', ':wrong', '', ':', 'SuperSecretKey')
      .map((c) => ({ authorization: `Basic ${Buffer.from(c).toString('base64')}` })),
    headerValue.map((v) => ({ authorization: v })),
    fc.constant({ authorization: 'Basic !!!notbase64' }),
  );
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc.tuple(signedRoute, fc.constantFrom('proxy1', 'proxy1', 'proxy1', 'proxy2'), extraHeaders).map(([r, signAs, extra]) => ({
        req: {
          target: 'broker',
          method: r.method,
          path: r.path,
          body: 'body' in r ? r.body : undefined,
          headers: { ...extra },
          signAs,
          label: `broker signed ${r.label}`,
        },
        payload: 'payload' in r ? r.payload : undefined,
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(signedRoute, brokerGarbageAuth()).map(([r, auth]) => ({
        req: {
          target: 'broker',
          method: r.method,
          path: r.path,
          body: 'body' in r ? (typeof r.body === 'string' ? r.body.split(JSON.stringify(MSG)).join('"a.b.c"') : r.body) : undefined,
          headers: auth,
          label: `broker unsigned ${r.label}`,
        },
      })),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(publicRoute, monitoringAuth, extraHeaders).map(([r, auth, extra]) => ({
        req: { target: 'broker', method: r.method, path: r.path, headers: { ...extra, ...auth }, label: `broker ${r.label}` },
      })),
    },
  );
}

/** An upgrade to a direct socket (`Upgrade: tcp`), which fetch cannot send: it goes over a raw connection. */
interface SocketUpgrade {
  target: 'proxy1' | 'proxy2' | 'broker';
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  signAs?: 'proxy1' | 'proxy2';
}

/** One header line's worth of text: what a client can put in a `metadata` header. */
const oneLine = (v: string): string => v.replace(/[\r\n]/g, ' ').replace(/[^\x20-\x7e]/g, '?');

function socketUpgrade(): fc.Arbitrary<SocketUpgrade> {
  // No app here has a certificate or a live socket request: a valid-looking upgrade ends at once (404/424).
  const atProxy = fc
    .record({
      proxy: fc.constantFrom<'proxy1' | 'proxy2'>('proxy1', 'proxy2'),
      method: fc.constantFrom<'GET' | 'POST'>('GET', 'POST'),
      // A real app or proxy (both have certificates) would make a real socket request, which waits for its
      // peer for the socket's TTL: the generator once produced `proxy2.broker`, and the upgrade waited.
      segment: segment(['app9.proxy9.broker', randomUUID()]).filter((seg) => !/^(app\d\.)?proxy[12]\.broker$/i.test(seg)),
      metadata: fc.option(fc.oneof(fuzzValue.map(toJsonText), headerValue), { nil: undefined }),
    })
    .chain((r) =>
      apiKeyAuth(r.proxy === 'proxy1' ? APP1 : APP2).map((auth) => ({
        target: r.proxy,
        method: r.method,
        path: `/v1/sockets/${r.segment}`,
        headers: { ...auth, ...(r.metadata === undefined ? {} : { metadata: oneLine(r.metadata) }) },
      })),
    );
  const atBroker = fc
    .record({
      method: fc.constantFrom<'GET' | 'POST'>('GET', 'POST'),
      segment: segment([randomUUID()]),
      app: fc.option(segment([APP1, 'app2.proxy1.broker']), { nil: undefined }),
      signAs: fc.option(fc.constantFrom<'proxy1' | 'proxy2'>('proxy1', 'proxy2'), { nil: undefined }),
    })
    .map((r) => ({
      target: 'broker' as const,
      method: r.method,
      path: `/v1/sockets/${r.segment}${r.app === undefined ? '' : `?beam_app=${r.app}`}`,
      headers: {},
      signAs: r.signAs,
    }));
  return fc.oneof(atProxy, atBroker);
}

async function checkUpgrade(u: SocketUpgrade): Promise<void> {
  sent++;
  const headers = { ...u.headers };
  if (u.signAs) headers.authorization = await signRequest({ method: u.method, pathAndQuery: u.path }, signers[u.signAs]);
  const port = Number(new URL(bases[u.target]).port);
  const lines = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const answer = await rawRequest(
    port,
    `${u.method} ${u.path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n${lines}Content-Length: 0\r\n\r\n`,
    5_000,
  );
  const problem = answer.status === 0 ? 'no answer within 5 s' : judge({ method: u.method }, answer);
  if (problem)
    failures.push({
      request: `[socket upgrade] ${u.method} ${u.target}${u.path.slice(0, 200)} ${JSON.stringify(headers).slice(0, 200)}`,
      problem: `${problem}: ${answer.raw.slice(0, 200)}`,
    });
}

function anyRequest(): fc.Arbitrary<HostileRequest> {
  return fc.oneof(
    { weight: 4, arbitrary: proxyRequest('proxy1') },
    { weight: 2, arbitrary: proxyRequest('proxy2') },
    {
      weight: 4,
      arbitrary: brokerRequest().map(({ req, payload }) => {
        if (payload) messagePayloads.set(req, payload);
        return req;
      }),
    },
  );
}

// ---------------------------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------------------------

describe('hostile input', () => {
  it(`answers ${TOTAL_REQUESTS} generated hostile requests with 4xx JSON (or success), never 5xx`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fc.array(anyRequest(), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        await runPool(batch, IN_FLIGHT, check);
        return true;
      }),
      { numRuns: Math.ceil(TOTAL_REQUESTS / BATCH), seed: SEED, endOnFailure: true },
    );
    const seconds = (Date.now() - started) / 1000;
    console.log(`hostile input: ${sent} generated requests in ${seconds.toFixed(1)} s (seed ${SEED}), ${failures.length} failures`);
    if (process.env.FUZZ_HISTOGRAM)
      console.log(
        [...histogram]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, n]) => `${String(n).padStart(6)} ${k}`)
          .join('\n'),
      );
    expect(sent).toBeGreaterThanOrEqual(TOTAL_REQUESTS);
    // One line per distinct problem, with an example request (FUZZ_SEED replays the run).
    const distinct = new Map<string, Failure>();
    for (const f of failures) if (!distinct.has(f.problem + f.request.slice(0, 40))) distinct.set(f.problem + f.request.slice(0, 40), f);
    expect([...distinct.values()].slice(0, 30)).toEqual([]);
  }, 180_000);

  it('answers generated hostile socket upgrades, at the proxies and the broker, with 4xx JSON, never 5xx', async () => {
    const before = { sent, failures: failures.length };
    await fc.assert(
      fc.asyncProperty(fc.array(socketUpgrade(), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        await runPool(batch, IN_FLIGHT, checkUpgrade);
        return true;
      }),
      { numRuns: Math.ceil(UPGRADES / BATCH), seed: SEED, endOnFailure: true },
    );
    console.log(`hostile socket upgrades: ${sent - before.sent} (seed ${SEED}), ${failures.length - before.failures} failures`);
    expect(sent - before.sent).toBeGreaterThanOrEqual(UPGRADES);
    const distinct = new Map<string, Failure>();
    for (const f of failures.slice(before.failures)) if (!distinct.has(f.problem.slice(0, 60))) distinct.set(f.problem.slice(0, 60), f);
    expect([...distinct.values()].slice(0, 30)).toEqual([]);
  }, 180_000);

  describe('deterministic cases', () => {
    const task = (): ReturnType<typeof newTask> => newTask(APP1, [APP2]);

    async function expectJsonError(answer: Answer, status: number | number[], code?: string): Promise<void> {
      expect(judge({ method: 'GET' }, answer)).toBeUndefined();
      expect([status].flat()).toContain(answer.status);
      if (code) expect(JSON.parse(answer.text).error).toBe(code);
    }
    const fetchAnswer = async (url: string, init: RequestInit = {}): Promise<Answer> => {
      const res = await fetch(url, init);
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
    };
    const auth = { authorization: `ApiKey ${APP1} App1Secret` };

    it('answers 413 JSON for a body over the proxy limit', async () => {
      // Sent raw: the answer is read whether or not the proxy still takes the rest of the upload once it answered.
      const body = Buffer.from(JSON.stringify({ ...task(), body: 'x'.repeat(MAX_APP_REQUEST_BYTES + 1) }));
      const head = `POST /v1/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${auth.authorization}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
      await expectJsonError(await rawRequest(t.net.proxies[0].port, Buffer.concat([Buffer.from(head), body]), 60_000), 413, 'payload_too_large');
    });

    it('refuses a body announced over the limit with 413 before 100 Continue: the app never uploads it', async () => {
      const port = t.net.proxies[0].port;
      const head =
        `POST /v1/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: ApiKey ${APP1} App1Secret\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${MAX_APP_REQUEST_BYTES + 1}\r\nExpect: 100-continue\r\n\r\n`;
      const answer = await rawRequest(port, head, 3_000);
      expect(answer.raw).not.toMatch(/100 Continue/);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.text)).toEqual({ error: 'payload_too_large', message: expect.stringMatching(/larger than the limit/) });
    });

    it('answers 404 JSON for unknown routes and 404/405 JSON for wrong methods, on every server', async () => {
      for (const base of Object.values(bases)) {
        await expectJsonError(await fetchAnswer(`${base}/v1/nope`, { headers: auth }), 404);
        await expectJsonError(await fetchAnswer(`${base}/`, { headers: auth }), 404);
        await expectJsonError(await fetchAnswer(`${base}/v1/tasks`, { method: 'DELETE', headers: auth }), [404, 405]);
        await expectJsonError(await fetchAnswer(`${base}/v1/health`, { method: 'POST', headers: auth }), [404, 405]);
      }
      await expectJsonError(await fetchAnswer(`${bases.proxy1}/v1/tasks/${fixture.id}`, { method: 'PATCH', headers: auth }), [404, 405]);
    });

    it('answers 400 JSON for JSON nested too deep, instead of failing later when re-serialising it', async () => {
      const res = await t.app1.request('POST', '/v1/tasks', JSON.stringify(task()).replace(/}$/, `,"metadata":${deepJson(5_000)}}`));
      await expectJsonError({ status: res.status, contentType: res.headers.get('content-type') ?? '', text: res.text }, 400, 'too_deep');
      let ok: unknown = 'bottom';
      for (let i = 0; i < 100; i++) ok = { a: ok };
      expect((await t.app1.postTask({ ...task(), metadata: ok })).status).toBe(201);
    });

    it('refuses at the broker a correctly signed message whose metadata is nested too deep', async () => {
      // signMessage would JSON.stringify the payload (and overflow): sign the deep JSON text directly.
      const payload = JSON.stringify({
        v: 2,
        id: randomUUID(),
        from: APP1,
        to: [APP2],
        encrypted: 'AAAA',
        encryption_keys: ['AAAA'],
        key_commitment: 'AAAA',
        failure_strategy: 'discard',
        ttl: '60s',
        created: Date.now(),
        digest: 'd',
      }).replace(/}$/, `,"metadata":${deepJson(5_000)}}`);
      const message = await signCompactJws(payload, signers.proxy1.privateKey, signers.proxy1.kid, MESSAGE_JWS_TYP);
      const body = JSON.stringify({ message });
      const authorization = await signRequest({ method: 'POST', pathAndQuery: '/v1/tasks', body }, signers.proxy1);
      await expectJsonError(
        await fetchAnswer(`${bases.broker}/v1/tasks`, { method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body }),
        400,
        'too_deep',
      );
      // ... so app2's todo list (which re-serialises every task) keeps working.
      expect((await t.app2.get('/v1/tasks?filter=todo')).status).toBe(200);
    });

    it('answers a store catch-up request with a far-future min_seq without a 5xx', async () => {
      const path = `/v1/tasks?beam_app=${APP1}&filter=todo&min_seq=999999999999`;
      const authorization = await signRequest({ method: 'GET', pathAndQuery: path }, signers.proxy1);
      const answer = await fetchAnswer(`${bases.broker}${path}`, { headers: { authorization } });
      expect(answer.status).toBeLessThan(500);
    });

    it('answers broken HTTP, oversized headers, a missing Host, odd Expect and CONNECT with JSON errors', async () => {
      const ports = [t.net.proxies[0].port, t.net.proxies[1].port, Number(new URL(bases.broker).port)];
      const a = `Authorization: ApiKey ${APP1} App1Secret\r\n`;
      const cases: Array<[string, number[]]> = [
        ['GARBAGE\r\n\r\n', [400]],
        ['GET v1/health HTTP/1.1\r\nHost: x\r\n\r\n', [400]],
        [`GET /v1/tasks HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, [431]],
        [`GET /v1/tasks?${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, [431]],
        ['POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}', [400]],
        ['POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}', [400]],
        [`POST /v1/tasks HTTP/1.1\r\nHost: x\r\n${a}Transfer-Encoding: chunked\r\n\r\nZZ\r\n`, [400]],
        [`GET /v1/tasks?filter=todo HTTP/1.1\r\nHost: x\r\n${a}Last-Event-ID: \x01\x02\r\n\r\n`, [400]],
        ['GET /v1/health HTTP/1.1\r\nConnection: close\r\n\r\n', [400]],
        [`POST /v1/tasks HTTP/1.1\r\nHost: x\r\n${a}Expect: garbage\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`, [417]],
        ['CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n', [405]],
        // Without credentials: an authenticated upgrade is a real socket request that waits for its peer.
        [`POST /v1/sockets/${APP2} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n`, [400, 401, 404, 405, 426]],
        [`GET /v1/tasks?filter=todo HTTP/1.1\r\nHost: x\r\n${a}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`, [200, 400, 401, 426]],
      ];
      for (const port of ports) {
        for (const [bytes, statuses] of cases) {
          const answer = await rawRequest(port, bytes, 3_000);
          const what = `${port} ${JSON.stringify(bytes.slice(0, 50))} -> ${JSON.stringify(answer.raw.slice(0, 200))}`;
          expect([what, statuses.includes(answer.status)]).toEqual([what, true]);
          expect([what, judge({ method: 'GET' }, answer)]).toEqual([what, undefined]);
        }
      }
    });

    it('rejects repeated query parameters instead of merging them', async () => {
      for (const q of ['filter=todo&filter=todo', 'wait_count=1&wait_count=1&filter=todo', 'from=app1.proxy1.broker&from=app1.proxy1.broker']) {
        await expectJsonError(await fetchAnswer(`${bases.proxy1}/v1/tasks?${q}`, { headers: auth }), 400);
      }
      await expectJsonError(await fetchAnswer(`${bases.proxy1}/v1/tasks/${fixture.id}/results?wait_time=1ms&wait_time=1ms`, { headers: auth }), 400);
    });
  });

  describe('afterwards', () => {
    it('has every process alive and healthy', async () => {
      for (const [name, service] of t.net.services) {
        expect([name, service.pid]).toEqual([name, pidsAtStart.get(name)]);
        expect([name, isAlive(service.pid)]).toEqual([name, true]);
      }
      for (const base of Object.values(bases)) expect([base, (await fetch(`${base}/v1/health`)).status]).toEqual([base, 200]);
      const crashes = dumpLogs(t.net)
        .split('\n')
        .filter((l) => /"level":"error","[^\n]*"context":"HTTP"|unhandled|uncaught/i.test(l));
      expect(crashes.slice(0, 10)).toEqual([]);
    });

    it('still runs a normal task cycle, and the fixture task lost nothing', async () => {
      const task = newTask(APP1, [APP2]);
      expect((await t.app1.postTask(task)).status).toBe(201);
      const todo = await t.app2.get('/v1/tasks?filter=todo');
      expect(todo.status).toBe(200);
      expect((todo.json as Array<{ id: string; body: string }>).find((x) => x.id === task.id)?.body).toBe(task.body);
      expect((await t.app2.putResult(task.id, { from: APP2, to: [APP1], task: task.id, status: 'claimed', metadata: null })).status).toBe(201);
      const answer = newResult(task, APP2, [APP1], { body: 'still 42' });
      expect((await t.app2.putResult(task.id, answer)).status).toBe(204);
      const results = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=10s`);
      expect(results.status).toBe(200);
      expect(results.json).toEqual([{ from: APP2, to: [APP1], task: task.id, status: 'succeeded', body: 'still 42', metadata: null }]);

      const again = await t.app2.get(`/v1/tasks/${fixture.id}`);
      expect(again.status).toBe(200);
      expect(again.json).toMatchObject({ id: fixture.id, body: fixture.body, metadata: fixture.metadata });
    });
  });
});
