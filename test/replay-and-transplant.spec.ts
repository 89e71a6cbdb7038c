/**
 * Issue 13, attacks 3, 4 and 8a, against a real network: the broker and whoever can write to NATS are untrusted
 * storage and transport. Every refusal here is the receiving proxy's, from signed data only; each attack is
 * shown to get through the broker (it serves the message) before the proxy refuses it.
 */
import { randomUUID } from 'node:crypto';
import { signMessage } from '@beamline/crypto';
import { subjects } from '@beamline/nats';
import { AppClient, newResult, newTask, type Reply } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, sendRaw, signed, type ProxySigner } from './support/proxy-signer';
import { sealedTask } from './support/sealed-messages';
import { StreamAccess } from './support/stream-access';
import { formatOneTask, payloadOf, postSigned, proxyKey } from './support/wire-forgery';

const APP1_AT_PROXY2 = 'app1.proxy2.broker';
const SKEW_MS = 1_000;

let t: TestNetwork;
let log: StreamAccess;
let proxy1: ProxySigner;
let proxy2: ProxySigner;
let app1AtProxy2: AppClient;

beforeAll(async () => {
  t = await startTestNetwork({ extraEnv: { proxy: { MESSAGE_CLOCK_SKEW: `${SKEW_MS}ms` } } });
  log = await StreamAccess.open(t.net.natsUrl);
  [proxy1, proxy2] = [proxySigner(t.net, 0), proxySigner(t.net, 1)];
  app1AtProxy2 = new AppClient(t.app2.proxyUrl, APP1_AT_PROXY2);
}, 120_000);

afterAll(async () => {
  await log?.close();
  await t?.net.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const proxy2Logs = (): string => t.net.services.get('proxy2.broker')!.recentLogs();

/** The task ids broker-api serves as `app`'s todo, asked directly as its proxy: what the broker hands out. */
async function servedTodo(app: string, signer: ProxySigner): Promise<string[]> {
  const res = await sendRaw(t.net.brokerUrl, await signed(signer, { method: 'GET', pathAndQuery: `/v1/tasks?filter=todo&beam_app=${app}` }));
  return (res.json as { items: Array<{ event: { taskId: string } }> }).items.map((i) => i.event.taskId);
}

async function todoIds(app: AppClient): Promise<string[]> {
  return ((await app.get('/v1/tasks?filter=todo')).json as Array<{ id: string }>).map((x) => x.id);
}

/** The task is never shown to `app`: not in its todo, and GET by id is no task. */
async function expectNeverShown(app: AppClient, id: string, secret?: string): Promise<Reply> {
  expect(await todoIds(app)).not.toContain(id);
  const byId = await app.get(`/v1/tasks/${id}`);
  expect(byId.status).not.toBe(200);
  if (secret !== undefined) expect(byId.text).not.toContain(secret);
  return byId;
}

describe('freshness from signed times (attack 3)', () => {
  it('refuses a re-published expired TaskCreated: never in the todo list or GET, never with a fake ttl', async () => {
    const task = newTask(APP1, [APP2], { ttl: '2s', body: `expired ${randomUUID()}` });
    expect((await t.app1.postTask(task)).status).toBe(201);
    const copy = await log.taskCreated(task.id);
    expect(((await t.app2.get(`/v1/tasks/${task.id}`)).json as { ttl: string }).ttl).toMatch(/^[12]s$/);
    await sleep(2_000 + SKEW_MS + 500);

    const now = Date.now();
    await log.inject(subjects.taskCreated(task.id), { ...copy, receivedAt: now, expiresAt: now + 604_800_000 });
    expect(await servedTodo(APP2, proxy2)).toContain(task.id); // the broker hands it out again, as new for 7 days
    const byId = await expectNeverShown(t.app2, task.id, task.body);
    expect(byId.status).toBe(404);
    expect(proxy2Logs()).toMatch(new RegExp(`task ${task.id}: expired \\d+ ms ago by its signed creation time and ttl`));
  });

  it('does not show an older result re-published after a newer one in its place', async () => {
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'tempfailed', body: 'older' }))).status).toBe(201);
    const older = await log.resultPut(task.id, APP2);
    await sleep(5);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'succeeded', body: 'newer' }))).status).toBe(204);
    const newer = await log.resultPut(task.id, APP2);
    const results = async (): Promise<unknown> => (await t.app1.get(`/v1/tasks/${task.id}/results`)).json;
    expect(await results()).toEqual([expect.objectContaining({ status: 'succeeded', body: 'newer' })]);

    // A verbatim copy of the older ResultPut: the newest signed result still wins.
    await log.inject(subjects.taskResult(task.id, APP2), older);
    expect(await results()).toEqual([expect.objectContaining({ status: 'succeeded', body: 'newer' })]);

    // A copy dated after the newer one in the broker's event: the broker serves it, the proxy refuses it.
    await log.inject(subjects.taskResult(task.id, APP2), { ...older, created: (newer.created as number) + 1 });
    const served = await sendRaw(t.net.brokerUrl, await signed(proxy1, { method: 'GET', pathAndQuery: `/v1/tasks/${task.id}/results?beam_app=${APP1}` }));
    expect((served.json as { items: Array<{ event: { status: string } }> }).items.map((i) => i.event.status)).toEqual(['tempfailed']);
    const shown = (await results()) as Array<{ status: string; body: string }>;
    expect(shown.filter((r) => r.status === 'tempfailed' || r.body === 'older')).toEqual([]);
  });
});

describe('bodies bound to their message (attack 4)', () => {
  let original: { id: string; body: string; sealed: Record<string, unknown> };

  beforeAll(async () => {
    const task = newTask(APP1, [APP1_AT_PROXY2], { body: `for app1 only ${randomUUID()}` });
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect(((await app1AtProxy2.get(`/v1/tasks/${task.id}`)).json as { body: string }).body).toBe(task.body);
    original = { id: task.id, body: task.body, sealed: payloadOf((await log.taskCreated(task.id)).message as string) };
  });

  /** A new task carrying the original's sealed body, validly signed by `signer` and accepted by the broker. */
  async function transplant(signer: ProxySigner, from: string, to: string[]): Promise<string> {
    const { encrypted, encryption_keys, key_commitment } = original.sealed;
    const fresh = sealedTask({ from, to, body: 'placeholder', keys: to.map(() => proxyKey(t.net, 1)) });
    const forged = { ...fresh, encrypted, encryption_keys, key_commitment };
    expect((await postSigned(t.net.brokerUrl, signer, forged)).status).toBe(201);
    return fresh.id;
  }

  it('refuses a body transplanted into another task', async () => {
    const id = await transplant(proxy1, APP1, [APP1_AT_PROXY2]);
    expect(await servedTodo(APP1_AT_PROXY2, proxy2)).toContain(id);
    await expectNeverShown(app1AtProxy2, id, original.body);
    expect(proxy2Logs()).toMatch(/refusing a task message: cannot open sealed body/);
  });

  it('refuses a body transplanted to another app of the same proxy', async () => {
    const id = await transplant(proxy1, APP1, [APP2]);
    expect(await servedTodo(APP2, proxy2)).toContain(id);
    await expectNeverShown(t.app2, id, original.body);
  });

  it('refuses a body transplanted under another sender, re-signed by another enrolled proxy', async () => {
    const id = await transplant(proxy2, APP2, [APP1_AT_PROXY2]);
    expect(await servedTodo(APP1_AT_PROXY2, proxy2)).toContain(id);
    await expectNeverShown(app1AtProxy2, id, original.body);
  });
});

describe('key commitment (attack 8a)', () => {
  it('refuses a task whose key commitment does not match the key its recipient unwraps', async () => {
    const secret = `committed elsewhere ${randomUUID()}`;
    const task = sealedTask({ from: APP1, to: [APP2], body: secret, keys: [proxyKey(t.net, 1)] });
    const other = sealedTask({ id: task.id, from: APP1, to: [APP2], body: secret, keys: [proxyKey(t.net, 1)] });
    expect((await postSigned(t.net.brokerUrl, proxy1, { ...task, key_commitment: other.key_commitment })).status).toBe(201);
    expect(await servedTodo(APP2, proxy2)).toContain(task.id);
    await expectNeverShown(t.app2, task.id, secret);
    expect(proxy2Logs()).toMatch(/cannot open sealed body: key commitment mismatch/);
  });
});

describe('the old message format', () => {
  it('is refused by broker-api (400 unsupported_format)', async () => {
    const res = await postSigned(t.net.brokerUrl, proxy1, formatOneTask(APP1, [APP2], 'old', [proxyKey(t.net, 1)]));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'unsupported_format' });
  });

  it('is refused by the receiving proxy when the log holds one (written before the upgrade, or injected)', async () => {
    const secret = `format one ${randomUUID()}`;
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    const template = await log.taskCreated(task.id);
    const old = formatOneTask(APP1, [APP2], secret, [proxyKey(t.net, 1)]);
    const message = await signMessage(old, proxy1.privateKey, proxy1.kid);
    const id = old.id as string;
    await log.inject(subjects.taskCreated(id), { ...template, taskId: id, message });
    expect(await servedTodo(APP2, proxy2)).toContain(id);
    const byId = await expectNeverShown(t.app2, id, secret);
    expect(byId.json).toMatchObject({ error: 'verification_failed' });
    expect(proxy2Logs()).toMatch(/refusing a task message: v: message format .* is not supported/);
  });
});
