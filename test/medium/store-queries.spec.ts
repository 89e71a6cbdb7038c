/**
 * broker-store's query side against a real nats-server: the projection follows BEAM_EVENTS, the responder
 * answers over request/reply, and broker-api's StoreQueries asks. A replica that has not applied the writer's
 * sequence within CATCH_UP_TIMEOUT_MS answers `behind` (so broker-api asks another one) instead of a stale view.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import {
  connectNats,
  DEFAULT_STORAGE_SETTINGS,
  encodeJson,
  ensureStorage,
  EventLog,
  requestInChunks,
  StoreQueries,
  StoreResponder,
  StreamFollowers,
  subjects,
} from '@beamline/nats';
import { ProjectionService } from '../../apps/broker-store/src/projection.service';
import { QueryResponder } from '../../apps/broker-store/src/query.responder';
import { loadStoreConfig } from '../../apps/broker-store/src/config';

const CATCH_UP_MS = 400;
const PROXY = 'proxy1.broker';

let server: NatsServerHandle;
let nc: NatsConnection;
let log: EventLog;
let projection: ProjectionService;
let responder: QueryResponder;
let queries: StoreQueries;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats(server.url, 'store-queries-spec');
  await ensureStorage(nc, DEFAULT_STORAGE_SETTINGS, []);
  log = new EventLog(nc);
  projection = new ProjectionService(new StreamFollowers(nc));
  responder = new QueryResponder(new StoreResponder(nc), projection, loadStoreConfig({ CATCH_UP_TIMEOUT_MS: String(CATCH_UP_MS) }));
  await projection.onApplicationBootstrap();
  responder.onApplicationBootstrap();
  queries = new StoreQueries(nc);
}, 30_000);

afterAll(async () => {
  responder?.onApplicationShutdown();
  await projection?.onApplicationShutdown();
  await nc?.close();
  await server?.stop();
});

/** Any event on the log advances the views' sequence; an unreadable one is skipped but still counted. */
async function appendSomething(): Promise<number> {
  return (await log.append(subjects.taskExpired('00000000-0000-4000-8000-000000000001'), { type: 'Unreadable' })).seq;
}

it('answers a query once the views include the sequence it asks for', async () => {
  const seq = await appendSomething();
  const answer = await queries.ask({ q: 'usage', asApp: PROXY, minSeq: seq }, 5_000);
  expect(answer).toMatchObject({ seq: expect.any(Number) as number, tasks: 0, bytes: 0 });
  expect((answer as { seq: number }).seq).toBeGreaterThanOrEqual(seq);
});

it('waits for a write that lands within the catch-up time, rather than answer from before it', async () => {
  const next = (await appendSomething()) + 1;
  const asked = queries.ask({ q: 'usage', asApp: PROXY, minSeq: next }, 5_000);
  await new Promise((r) => setTimeout(r, CATCH_UP_MS / 4));
  await appendSomething();
  expect(await asked).toMatchObject({ seq: next });
});

it('answers behind when the views do not reach the sequence within the catch-up time', async () => {
  const beyond = (await appendSomething()) + 1_000;
  const started = Date.now();
  const answer = await queries.ask({ q: 'usage', asApp: PROXY, minSeq: beyond }, 5_000);
  expect(answer).toMatchObject({ error: 'behind' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(CATCH_UP_MS - 50);
});

it('refuses a malformed query as bad_query, naming the field', async () => {
  const reply = await requestInChunks(nc, subjects.storeQuery, encodeJson({ q: 'tasks', asApp: 'not a beam id' }), 5_000);
  expect(reply).toMatchObject({ error: { error: 'bad_query', message: expect.stringContaining('asApp') as string } });
});

it('answers a ping with the sequence the views have applied', async () => {
  const seq = await appendSomething();
  await projection.waitFor(seq, 5_000);
  expect(await queries.ping(5_000)).toBeGreaterThanOrEqual(seq);
});
