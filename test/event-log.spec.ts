/**
 * What the event log holds and what survives: no plaintext in any message or on disk, tampered messages
 * refused by the receiving proxy, and a restart of broker-store and broker-api losing nothing.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { subjects } from '@beamline/nats';
import { AppClient, newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { flipBit, StreamAccess, tamperJws } from './support/stream-access';

let t: TestNetwork;
let log: StreamAccess;

beforeAll(async () => {
  t = await startTestNetwork();
  log = await StreamAccess.open(t.net.natsUrl);
}, 120_000);

afterAll(async () => {
  await log?.close();
  await t?.net.stop();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('the event log', () => {
  it('holds no plaintext body, neither in any message nor in the stream files on disk', async () => {
    const secrets = [`task-secret-${randomUUID()}`, `result-secret-${randomUUID()}`, `second-recipient-${randomUUID()}`];
    const task = newTask(APP1, [APP2, 'app2.proxy1.broker'], { body: secrets[0] });
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: secrets[1] }))).status).toBe(201);
    const task2 = newTask(APP2, [APP1], { body: secrets[2] });
    expect((await t.app2.postTask(task2)).status).toBe(201);
    // Recipients can read it, so it was really sent.
    expect(((await t.app2.get(`/v1/tasks/${task.id}`)).json as { body: string }).body).toBe(secrets[0]);

    const messages = await log.allMessages();
    expect(messages.length).toBeGreaterThanOrEqual(3);
    for (const m of messages) {
      const text = Buffer.from(m.data).toString('latin1');
      for (const s of secrets) expect(text).not.toContain(s);
    }
    const storeDir = t.net.nats!.storeDir;
    const files = filesUnder(storeDir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const s of secrets) expect(bytes.includes(Buffer.from(s))).toBe(false);
    }
  });

  describe('a sealed task altered in the stream is refused by the receiving proxy', () => {
    const mutations: Record<string, (p: Record<string, unknown>) => void> = {
      'body ciphertext': (p) => (p.encrypted = flipBit(p.encrypted as string)),
      'wrapped key': (p) => ((p.encryption_keys as string[])[0] = flipBit((p.encryption_keys as string[])[0])),
      to: (p) => (p.to = ['app1.proxy2.broker']),
      from: (p) => (p.from = 'app2.proxy1.broker'),
      metadata: (p) => (p.metadata = { injected: true }),
      'task id': (p) => (p.id = randomUUID()),
    };

    it.each(Object.keys(mutations))('refuses a task whose %s was changed', async (field) => {
      const original = newTask(APP1, [APP2], { body: 'genuine', metadata: 'genuine' });
      expect((await t.app1.postTask(original)).status).toBe(201);
      const event = await log.taskCreated(original.id);
      let forgedPayload: Record<string, unknown> = {};
      const forgedMessage = tamperJws(event.message as string, (p) => {
        mutations[field](p);
        forgedPayload = p;
      });
      const forgedId = field === 'task id' ? (forgedPayload.id as string) : randomUUID();
      const forgedTo = forgedPayload.to as string[];
      await log.inject(subjects.taskCreated(forgedId), { ...event, taskId: forgedId, to: forgedTo, from: forgedPayload.from, message: forgedMessage });

      // Every recipient the forged event names: the store serves it, the proxy must refuse it.
      const reader = new AppClient(t.app2.proxyUrl, forgedTo.includes(APP2) ? APP2 : forgedTo[0]);
      const todo = (await reader.get('/v1/tasks?filter=todo')).json as Array<{ id: string; metadata: unknown }>;
      expect(todo.filter((x) => x.id === forgedId)).toEqual([]);
      expect(todo.filter((x) => x.metadata && typeof x.metadata === 'object' && 'injected' in (x.metadata as object))).toEqual([]);
      const byId = await reader.get(`/v1/tasks/${forgedId}`);
      expect(byId.status).toBe(502);
      expect(byId.json).toMatchObject({ error: 'verification_failed' });
      expect(byId.text).not.toContain('genuine');
      // The forged event stays in the log for audit.
      expect((await log.taskCreated(forgedId)).message).toBe(forgedMessage);
    });
  });

  it('refuses a result whose sealed body was changed in the stream', async () => {
    const task = newTask(APP1, [APP2, 'app2.proxy1.broker']);
    await t.app1.postTask(task);
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'genuine answer' }));
    const event = await log.resultPut(task.id, APP2);
    const forged = tamperJws(event.message as string, (p) => {
      p.encrypted = flipBit(p.encrypted as string);
      p.from = 'app2.proxy1.broker';
    });
    await log.inject(subjects.taskResult(task.id, 'app2.proxy1.broker'), { ...event, from: 'app2.proxy1.broker', message: forged });
    const results = (await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=2&wait_time=1s`)).json as Array<{ from: string; body: string }>;
    expect(results).toEqual([expect.objectContaining({ from: APP2, body: 'genuine answer' })]);
  });

  it('loses no task or result when broker-store and broker-api restart', async () => {
    const tasks = Array.from({ length: 5 }, () => newTask(APP1, [APP2]));
    for (const task of tasks) expect((await t.app1.postTask(task)).status).toBe(201);
    for (const task of tasks.slice(0, 3)) expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: `r-${task.id}` }))).status).toBe(201);

    await t.net.services.get('broker-store')!.restart();
    await t.net.services.get('broker-api')!.restart();

    for (const task of tasks) {
      const got = await t.app2.get(`/v1/tasks/${task.id}`);
      expect(got.status).toBe(200);
      expect((got.json as { body: string }).body).toBe(task.body);
    }
    for (const task of tasks.slice(0, 3)) {
      const results = (await t.app1.get(`/v1/tasks/${task.id}/results`)).json as Array<{ body: string }>;
      expect(results.map((r) => r.body)).toEqual([`r-${task.id}`]);
    }
    const todoIds = ((await t.app2.get('/v1/tasks?filter=todo')).json as Array<{ id: string }>).map((x) => x.id);
    for (const task of tasks.slice(3)) expect(todoIds).toContain(task.id);
    // And the network keeps working after the restart.
    const fresh = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(fresh)).status).toBe(201);
    expect((await t.app2.putResult(fresh.id, newResult(fresh, APP2, [APP1]))).status).toBe(201);
  });
});
