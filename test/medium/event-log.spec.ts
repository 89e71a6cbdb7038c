/**
 * The write path's rules against a real JetStream: read → decide (libs/domain deciders) → append with the
 * expected subject sequence, again on a conflict (appendDecided). Create-once, an idempotent retry, reuse of an
 * expired id, and two writers racing for one id.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import { Conflict, decideCreateTask, parseEvent, type CreateTask, type Stored, type TaskCreated } from '@beamline/domain';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, DEFAULT_STORAGE_SETTINGS, ensureStorage, EventLog, subjects, type StoredEvent } from '@beamline/nats';
import { appendDecided, type AppendOutcome } from '../../apps/broker-api/src/tasks/decided-append';

let server: NatsServerHandle;
let nc: NatsConnection;
let log: EventLog;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats(server.url, 'event-log-spec');
  await ensureStorage(nc, DEFAULT_STORAGE_SETTINGS, []);
  log = new EventLog(nc);
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

const asTask = (e: StoredEvent): Stored<TaskCreated> => ({ seq: e.seq, event: parseEvent(e.event) as TaskCreated });

function command(taskId: string, overrides: Partial<CreateTask> = {}): CreateTask {
  return { taskId, from: 'app1.proxy1.broker', to: ['app2.proxy2.broker'], message: `jws-${randomUUID()}`, digest: 'digest-1', ttlMs: 60_000, ...overrides };
}

/** What broker-api's CreateTaskHandler does with the log. */
function create(c: CreateTask): Promise<AppendOutcome> {
  return appendDecided(log, {
    subject: subjects.taskCreated(c.taskId),
    decide: (prior) => decideCreateTask(prior && asTask(prior), c, Date.now()),
    msgId: `tc-${c.message}`,
    assumeEmpty: true,
    contention: `id: task ${c.taskId} is being written concurrently, retry`,
  });
}

it('creates a task once: another task under a live id is a conflict, and the log keeps the first', async () => {
  const id = randomUUID();
  const first = await create(command(id));
  expect(first.kind).toBe('appended');
  await expect(create(command(id, { digest: 'digest-2' }))).rejects.toThrow(new Conflict(`id: task ${id} already exists`, 'task_exists'));
  const last = await log.lastOn(subjects.taskCreated(id));
  expect(last?.seq).toBe(first.kind === 'appended' ? first.appended.seq : -1);
});

it('answers a retry of the same task (same sender and digest, even re-signed) with the stored sequence, writing nothing', async () => {
  const id = randomUUID();
  const first = await create(command(id));
  const retry = await create(command(id)); // a new message (a re-signed JWS), the same content
  expect(first.kind).toBe('appended');
  expect(retry).toEqual({ kind: 'already', seq: first.kind === 'appended' ? first.appended.seq : -1 });
});

it('acknowledges the very same message sent twice as a duplicate of the first append', async () => {
  const c = command(randomUUID());
  const first = await create(c);
  const again = await log.append(subjects.taskCreated(c.taskId), { resent: true }, { expectedLastSubjectSeq: 0, msgId: `tc-${c.message}` });
  expect(again).toMatchObject({ duplicate: true, seq: first.kind === 'appended' ? first.appended.seq : -1 });
});

it('reuses the id of an expired task at once, expecting that task as the last event on the subject', async () => {
  const id = randomUUID();
  const old = await create(command(id, { ttlMs: 200 }));
  await new Promise((r) => setTimeout(r, 300));
  const reused = await create(command(id, { digest: 'other content' }));
  expect(reused.kind).toBe('appended');
  const seqs = [old, reused].map((o) => (o.kind === 'appended' ? o.appended.seq : -1));
  expect(seqs[1]).toBeGreaterThan(seqs[0]);
  expect(asTask((await log.lastOn(subjects.taskCreated(id)))!).event.digest).toBe('other content');
});

it('lets exactly one of two writers racing for one id win; the other learns of it', async () => {
  const id = randomUUID();
  const outcomes = await Promise.allSettled([create(command(id, { digest: 'a' })), create(command(id, { digest: 'b' }))]);
  expect(outcomes.filter((o) => o.status === 'fulfilled' && o.value.kind === 'appended')).toHaveLength(1);
  const loser = outcomes.find((o) => o.status === 'rejected');
  expect((loser as PromiseRejectedResult | undefined)?.reason).toBeInstanceOf(Conflict);
});
