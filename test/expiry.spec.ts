/** Expiry exactly at the TTL, the maximum TTL, and the elected expiry leader, against a real nats-server. */
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { startService, type ServiceHandle } from '@beamline/devnet';
import { AUDIT_STREAM, EXPIRY_LEADER_LEASE, LEASE_BUCKET, subjects } from '@beamline/nats';
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { StreamAccess } from './support/stream-access';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('expiry', () => {
  it('removes a ttl "2s" task and its results from todo, get-by-id and results within 2.5 s, and lets the id be reused', async () => {
    const task = newTask(APP1, [APP2], { ttl: '2s' });
    const posted = Date.now();
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'tempfailed' }))).status).toBe(201);
    expect(((await t.app2.get('/v1/tasks?filter=todo')).json as Array<{ id: string }>).map((x) => x.id)).toContain(task.id);

    await sleep(2_500 - (Date.now() - posted));
    expect(((await t.app2.get('/v1/tasks?filter=todo')).json as Array<{ id: string }>).map((x) => x.id)).not.toContain(task.id);
    expect((await t.app2.get(`/v1/tasks/${task.id}`)).status).toBe(404);
    expect((await t.app1.get(`/v1/tasks/${task.id}/results`)).status).toBe(404);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1]))).status).toBe(404);

    const again = { ...task, body: 'second life', ttl: '60s' };
    expect((await t.app1.postTask(again)).status).toBe(201);
    const got = await t.app2.get(`/v1/tasks/${task.id}`);
    expect(got.status).toBe(200);
    expect((got.json as { body: string }).body).toBe('second life');
    expect((await t.app1.get(`/v1/tasks/${task.id}/results`)).json).toEqual([]);
  });

  it('ends a waiting results long-poll with 206 and no results when the task expires', async () => {
    // 3 s leave the post, the claim and the start of the wait time to happen before expiry on a loaded box (with
    // 1 s, a slow claim made the wait start after the deadline: a 404, rightly).
    const posted = Date.now();
    const task = newTask(APP1, [APP2], { ttl: '3s' });
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app2.putResult(task.id, { from: APP2, to: [APP1], task: task.id, status: 'claimed', metadata: null })).status).toBe(201);
    const res = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=20s`);
    expect(res.status).toBe(206);
    expect(res.json).toEqual([]);
    // At the deadline, not when the 20 s wait runs out.
    expect(Date.now() - posted).toBeLessThan(3_000 + 2_000);
  });

  it('rejects a ttl above the maximum (7 days) and a zero ttl with 400 naming ttl', async () => {
    for (const ttl of ['8d', '604801', '0s']) {
      const res = await t.app1.postTask(newTask(APP1, [APP2], { ttl }));
      expect(res.status).toBe(400);
      expect((res.json as { message: string }).message).toMatch(/^ttl/);
    }
    expect((await t.app1.postTask(newTask(APP1, [APP2], { ttl: '7d' }))).status).toBe(201);
  });

  it('records TaskExpired, and once BEAM_AUDIT holds the task leaves nothing of it in the live log', async () => {
    const task = newTask(APP1, [APP2], { ttl: '500ms' });
    await t.app1.postTask(task);
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'claimed' }));
    await t.app2.putResult(task.id, newResult(task, APP2, [APP1]));
    const ofTask = (m: { origin: string }) => m.origin.startsWith(`beam.ev.task.${task.id}.`);
    let remaining: string[] = ['not read yet'];
    for (let i = 0; i < 30 && remaining.length > 0; i++) {
      await sleep(200);
      remaining = (await log.allMessages()).filter(ofTask).map((m) => m.subject);
    }
    // Nothing per task stays behind for max_age: not even a subject of its own (nats-server memory).
    expect(remaining).toEqual([]);
    const audited = (await log.allMessages(AUDIT_STREAM)).filter(ofTask).map((m) => m.origin);
    expect(audited).toEqual([
      subjects.taskCreated(task.id),
      subjects.taskResult(task.id, APP2),
      subjects.taskResult(task.id, APP2),
      subjects.taskExpired(task.id),
    ]);
  });
});

describe('the expiry leader', () => {
  let second: ServiceHandle | undefined;

  afterAll(async () => {
    await second?.stop();
  });

  async function leaseHolder(): Promise<string | undefined> {
    const kv = await new Kvm(log.nc).open(LEASE_BUCKET);
    const entry = await kv.get(EXPIRY_LEADER_LEASE);
    return entry && entry.operation === 'PUT' ? entry.string() : undefined;
  }

  it('is one broker-store replica, and another replica takes over when it dies', async () => {
    second = await startService({
      name: 'broker-store-2',
      script: join(__dirname, '..', 'dist', 'apps', 'broker-store', 'src', 'main.js'),
      env: { NATS_URL: t.net.natsUrl, LOG_LEVEL: 'warn', METRICS_ADDR: '127.0.0.1:0' },
    });
    const first = t.net.services.get('broker-store')!;
    const holder = await leaseHolder();
    expect(holder).toMatch(new RegExp(`-(${first.pid}|${second.pid})-`));
    const [leader, follower] = holder!.includes(`-${first.pid}-`) ? [first, second] : [second, first];

    await leader.kill();
    let next: string | undefined;
    for (let i = 0; i < 50 && !next?.includes(`-${follower.pid}-`); i++) {
      await sleep(200);
      next = await leaseHolder();
    }
    expect(next).toContain(`-${follower.pid}-`);

    // The new leader sweeps: a short task still expires physically.
    const task = newTask(APP1, [APP2], { ttl: '300ms' });
    await t.app1.postTask(task);
    let subjectsLeft: string[] = ['not read yet'];
    for (let i = 0; i < 30 && subjectsLeft.length > 0; i++) {
      await sleep(200);
      subjectsLeft = (await log.allMessages()).filter((m) => m.subject.startsWith(`beam.ev.task.${task.id}.`)).map((m) => m.subject);
    }
    expect(subjectsLeft).toEqual([]);
    if (leader === first) await first.restart();
  });
});
