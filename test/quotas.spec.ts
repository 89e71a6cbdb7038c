/**
 * Per-proxy quotas at the broker (issue 11): one enrolled proxy that writes too fast, keeps too many tasks
 * alive or stores too many bytes is refused with 429/507 naming the quota, while another proxy's writes go on.
 * The network runs with small quotas so each is reached in seconds.
 */
import { randomBytes } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { jetstreamManager } from '@nats-io/jetstream';
import { BLOBS_BUCKET, BLOBS_STREAM, connectNats } from '@beamline/nats';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { newResult, newTask, type Reply } from './support/app-client';

const WRITE_RATE = 10; // per second per proxy, bursts of 20
const LIVE_TASKS = 40; // above the first test's (at most 36) writes, so its refusals are the rate's
const LIVE_BYTES_MIB = 4;

let t: TestNetwork;

beforeAll(async () => {
  t = await startTestNetwork({
    extraEnv: { 'broker-api': { QUOTA_WRITE_RATE: String(WRITE_RATE), QUOTA_LIVE_TASKS: String(LIVE_TASKS), QUOTA_LIVE_BYTES: `${LIVE_BYTES_MIB}MiB` } },
  });
}, 60_000);

afterAll(async () => {
  await t?.net.stop();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function quotaOf(reply: Reply): string | undefined {
  return (reply.json as { error?: string; quota?: string } | undefined)?.error === 'quota_exceeded' ? (reply.json as { quota: string }).quota : undefined;
}

/** Posts one task per `paceMs` (under the write rate) until one is refused; returns how many were accepted and the refusal. */
async function postUntilRefused(post: () => Promise<Reply>, max: number, paceMs: number): Promise<{ accepted: number; refusal: Reply | undefined }> {
  for (let accepted = 0; accepted < max; accepted++) {
    const reply = await post();
    if (reply.status !== 201) return { accepted, refusal: reply };
    await sleep(paceMs);
  }
  return { accepted: max, refusal: undefined };
}

describe('per-proxy quotas', () => {
  it('refuses a proxy that writes faster than QUOTA_WRITE_RATE with 429 write_rate and Retry-After; another proxy writes on', async () => {
    // 6 at a time (under MAX_UPLOADS_PER_PROXY) until the bucket of 20 is spent: faster than 10 per second.
    const answers: Reply[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (answers.length < 30 && !answers.some((r) => r.status === 429)) answers.push(await t.app1.postTask(newTask(APP1, [APP2], { ttl: '2s' })));
      }),
    );
    const refused = answers.filter((r) => r.status !== 201);
    expect(answers.filter((r) => r.status === 201).length).toBeGreaterThanOrEqual(2 * WRITE_RATE);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.map((r) => [r.status, quotaOf(r)])).toEqual(refused.map(() => [429, 'write_rate']));
    expect(Number(refused[0].headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((refused[0].json as { message: string }).message).toMatch(/proxy1\.broker .*QUOTA_WRITE_RATE/);

    expect((await t.app2.postTask(newTask(APP2, [APP1]))).status).toBe(201);
    await sleep(1_000);
    expect((await t.app1.postTask(newTask(APP1, [APP2], { ttl: '2s' }))).status).toBe(201); // the rate refills
  });

  it('refuses a new task beyond QUOTA_LIVE_TASKS with 429 live_tasks; a retry of a stored task and another proxy still get 201', async () => {
    const mine = newTask(APP2, [APP1], { ttl: '600s' });
    expect((await t.app2.postTask(mine)).status).toBe(201);
    const { accepted, refusal } = await postUntilRefused(() => t.app2.postTask(newTask(APP2, [APP1], { ttl: '600s' })), LIVE_TASKS + 5, 1000 / WRITE_RATE + 20);
    expect(refusal?.status).toBe(429);
    expect(quotaOf(refusal!)).toBe('live_tasks');
    expect((refusal!.json as { message: string }).message).toMatch(/proxy2\.broker has \d+ live tasks, its quota is 40 \(QUOTA_LIVE_TASKS\)/);
    expect(Number(refusal!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Two tasks earlier in this file (one from the first test, `mine`) count too.
    expect(accepted + 2).toBe(LIVE_TASKS);

    expect((await t.app2.postTask(mine)).status).toBe(201); // idempotent retry of a stored task
    expect((await t.app1.postTask(newTask(APP1, [APP2], { ttl: '2s' }))).status).toBe(201);
    // Results are not tasks: the proxy at its task quota still answers.
    expect((await t.app1.putResult(mine.id, newResult(mine, APP1, [APP2]))).status).toBe(201);
  });

  it('refuses a write beyond QUOTA_LIVE_BYTES with 507 live_bytes, gives the bytes back when the tasks expire; another proxy writes on', async () => {
    const target = newTask(APP1, [APP2], { ttl: '600s' });
    expect((await t.app1.postTask(target)).status).toBe(201);
    const big = (): Promise<Reply> => t.app1.postTask(newTask(APP1, [APP2], { ttl: '3s', body: randomBytes(768 * 1024).toString('base64') }));
    const { accepted, refusal } = await postUntilRefused(big, 10, 150);
    expect(refusal?.status).toBe(507);
    expect(quotaOf(refusal!)).toBe('live_bytes');
    expect((refusal!.json as { message: string }).message).toMatch(/proxy1\.broker holds .* quota of 4 MiB \(QUOTA_LIVE_BYTES\)/);
    // Each 1 MiB body is about 1.4 MB sealed: the quota let through what fits, not more.
    expect(accepted).toBeGreaterThanOrEqual(2);
    expect(accepted).toBeLessThanOrEqual(3);

    // proxy2 is at its task quota, but its result is a write that fits its own quotas.
    expect((await t.app2.putResult(target.id, newResult(target, APP2, [APP1]))).status).toBe(201);

    // proxy1's big tasks expire after 3 s and are swept: its bytes are given back.
    const small = newTask(APP1, [APP2], { ttl: '600s' });
    const started = Date.now();
    let posted: Reply;
    do {
      await sleep(500);
      posted = await t.app1.postTask(small);
    } while (posted.status === 507 && Date.now() - started < 15_000);
    expect(posted.status).toBe(201);
  }, 60_000);

  it('refuses a file beyond QUOTA_LIVE_BYTES with 507 live_bytes, and deletes the parts it had already stored', async () => {
    const nc = await connectNats(t.net.natsUrl, 'quotas-spec');
    try {
      const store = await new Objm(nc).open(BLOBS_BUCKET);
      const names = async (): Promise<Set<string>> => new Set((await store.list()).filter((o) => !o.deleted).map((o) => o.name));
      const before = await names();
      const written = async (): Promise<number> => (await (await jetstreamManager(nc)).streams.info(BLOBS_STREAM)).state.last_seq;
      const writtenBefore = await written();
      const res = await fetch(`${t.net.proxies[0].url}/v1/files?to=${APP2}`, {
        method: 'POST',
        headers: { authorization: `ApiKey ${APP1} App1Secret`, 'content-type': 'application/octet-stream' },
        body: randomBytes((LIVE_BYTES_MIB + 2) * 2 ** 20),
      });
      const refusal = (await res.json()) as { error?: string; quota?: string; message?: string };
      expect([res.status, refusal.error, refusal.quota]).toEqual([507, 'quota_exceeded', 'live_bytes']);
      expect(refusal.message).toMatch(/QUOTA_LIVE_BYTES/);
      // Bytes went to the store before the refusal (the store counts them as they stream in); none of them stays.
      expect(await written()).toBeGreaterThan(writtenBefore);
      let left: string[] = [];
      for (const started = Date.now(); Date.now() - started < 10_000; await sleep(250)) {
        left = [...(await names())].filter((n) => !before.has(n));
        if (left.length === 0) break;
      }
      expect(left).toEqual([]);
    } finally {
      await nc.close();
    }
  }, 60_000);
});
