/**
 * Bodies as big as Samply.Beam takes (its CI posts a 55 MiB task), through the normal API: over
 * INLINE_BODY_MAX the sealed body goes to the broker's blob store and the signed message names it by SHA-256
 * and size, so no NATS message comes near max_payload. The blob is as unreadable as an inline body, and the
 * recipient's proxy refuses it unless it is exactly the bytes the signed message names.
 */
import { createHash, createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { signMessage } from '@beamline/crypto';
import { BLOBS_BUCKET, EVENTS_STREAM, subjects } from '@beamline/nats';
import { jetstreamManager } from '@nats-io/jetstream';
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, sendRaw, signed } from './support/proxy-signer';
import { sealedTask } from './support/sealed-messages';
import { StreamAccess } from './support/stream-access';
import { withPeakRss } from './support/processes';

const MiB = 2 ** 20;
/** Long enough that no upload here waits that long for its message, even on a busy machine. */
const ORPHAN_GRACE_S = 8;
let t: TestNetwork;
let log: StreamAccess;

beforeAll(async () => {
  t = await startTestNetwork({ extraEnv: { 'broker-store': { BLOB_ORPHAN_GRACE: `${ORPHAN_GRACE_S}s` } } });
  log = await StreamAccess.open(t.net.natsUrl);
}, 120_000);

afterAll(async () => {
  await log?.close();
  await t?.net.stop();
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
/** A body of `bytes` characters unlike any other (base64 text, as apps often send binary data). */
const bigBody = (bytes: number) =>
  randomBytes(Math.ceil((bytes * 3) / 4))
    .toString('base64')
    .slice(0, bytes);

/** The signed message's payload in a TaskCreated or ResultPut event (read, not verified). */
function payloadOf(event: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(Buffer.from(String(event.message).split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function eventBytes(subject: string): Promise<number> {
  const jsm = await jetstreamManager(log.nc);
  return (await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject }))!.data.length;
}

describe("a 55 MiB body, as in Samply.Beam's own test", () => {
  it('round-trips as a task and as a result, intact, with small events on the log', async () => {
    const taskBody = bigBody(55 * MiB);
    const task = newTask(APP1, [APP2], { body: taskBody });
    const { peaks } = await withPeakRss(t.net, async () => {
      expect((await t.app1.postTask(task)).status).toBe(201);

      const todo = await t.app2.get('/v1/tasks?filter=todo&wait_count=1&wait_time=30s');
      expect(todo.status).toBe(200);
      const seen = (todo.json as Array<{ id: string; body: string }>).find((x) => x.id === task.id);
      expect(seen && sha256(seen.body)).toBe(sha256(taskBody));

      const resultBody = bigBody(55 * MiB);
      expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: resultBody }))).status).toBe(201);
      const results = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=30s`);
      expect(results.status).toBe(200);
      expect(sha256((results.json as Array<{ body: string }>)[0].body)).toBe(sha256(resultBody));
    });

    expect(await eventBytes(subjects.taskCreated(task.id))).toBeLessThan(64 * 1024);
    expect(await eventBytes(subjects.taskResult(task.id, APP2))).toBeLessThan(64 * 1024);
    expect(payloadOf(await log.taskCreated(task.id))).toMatchObject({ encrypted_blob: { size: 55 * MiB + 40 } });
    console.log(`peak RSS (MB) while two 55 MiB bodies went through: ${JSON.stringify(peaks)}`);
  }, 240_000);
});

describe('a big JSON body through @beamline/client', () => {
  it('round-trips a 16 MiB JSON task body and result body, decoded for the apps', async () => {
    const rows = Array.from({ length: 16 * 1024 }, (_, i) => ({ row: i, data: bigBody(1000) })); // ~16 MiB of JSON
    const { id } = await t.beam1.postTask({ to: [APP2], body: { rows } }, { bodies: 'json' });
    let task;
    while (!task) task = (await t.beam2.pollPendingTasks<{ rows: typeof rows }>({ waitCount: 1, waitTimeMs: 30_000, bodies: 'json' })).find((x) => x.id === id);
    expect(task.body.rows).toHaveLength(rows.length);
    expect(sha256(JSON.stringify(task.body))).toBe(sha256(JSON.stringify({ rows })));
    await t.beam2.putResult({ task: id, to: [APP1], status: 'succeeded', body: { echoed: task.body.rows } }, { bodies: 'json' });
    const [result] = await t.beam1.pollResults<{ echoed: typeof rows }>(id, { waitCount: 1, waitTimeMs: 30_000, bodies: 'json' });
    expect(sha256(JSON.stringify(result.body?.echoed))).toBe(sha256(JSON.stringify(rows)));
    expect(payloadOf(await log.taskCreated(id))).toHaveProperty('encrypted_blob');
  }, 120_000);
});

describe('a blob is only what its signed message names', () => {
  it('refuses a task whose blob was altered in the store: its recipient never sees it', async () => {
    const altered = newTask(APP1, [APP2], { body: bigBody(2 * MiB) });
    expect((await t.app1.postTask(altered)).status).toBe(201);
    const ref = payloadOf(await log.taskCreated(altered.id)).encrypted_blob as { sha256: string; size: number };
    // Someone with NATS access replaces the sealed bytes under the same name.
    const os = await new Objm(log.nc).open(BLOBS_BUCKET);
    const name = `proxy1.broker/${ref.sha256}`;
    const bytes = Buffer.from((await os.getBlob(name))!);
    bytes[bytes.length >> 1] ^= 1;
    await os.putBlob({ name, metadata: (await os.info(name))!.metadata }, bytes);

    const intact = newTask(APP1, [APP2], { body: bigBody(2 * MiB) });
    expect((await t.app1.postTask(intact)).status).toBe(201);
    const todo = await t.app2.get('/v1/tasks?filter=todo');
    const ids = (todo.json as Array<{ id: string }>).map((x) => x.id);
    expect(ids).toContain(intact.id);
    expect(ids).not.toContain(altered.id);
    expect(t.net.services.get('proxy2')?.recentLogs() ?? dumpLogs(t.net)).toMatch(/refusing a task message: blob .* not the ones its message names/);
  }, 60_000);

  it('answers 404 to a proxy that is not one of its readers, and the bytes to one that is', async () => {
    const local = newTask(APP1, ['app2.proxy1.broker'], { body: bigBody(2 * MiB) });
    expect((await t.app1.postTask(local)).status).toBe(201);
    const ref = payloadOf(await log.taskCreated(local.id)).encrypted_blob as { sha256: string };
    const path = `/v1/blobs/proxy1.broker/${ref.sha256}`;
    expect((await sendRaw(t.net.brokerUrl, await signed(proxySigner(t.net, 1), { method: 'GET', pathAndQuery: path }))).status).toBe(404);
    expect((await sendRaw(t.net.brokerUrl, await signed(proxySigner(t.net, 0), { method: 'GET', pathAndQuery: path }))).status).toBe(200);
  }, 60_000);

  it('refuses a message that names a blob its proxy never uploaded', async () => {
    const signer = proxySigner(t.net, 0);
    const { encrypted: _inline, ...sealed } = sealedTask({ from: APP1, to: [APP2], body: 'x', keys: [createPublicKey(t.net.pki.proxies[1].certPem)] });
    const fake = createHash('sha256').update(randomUUID()).digest('base64url');
    const message = await signMessage({ ...sealed, encrypted_blob: { sha256: fake, size: 2 * MiB } }, signer.privateKey, signer.kid);
    const res = await sendRaw(t.net.brokerUrl, await signed(signer, { method: 'POST', pathAndQuery: '/v1/tasks', body: JSON.stringify({ message }) }));
    expect(res.status).toBe(400);
    expect(res.json).toMatchObject({ error: 'blob_missing' });
  });
});

describe('blobs go when nothing can name them any more', () => {
  /** The blobs in the store now (a deleted blob leaves only its deletion marker, which `list` skips). */
  async function blobNames(): Promise<string[]> {
    const os = await new Objm(log.nc).open(BLOBS_BUCKET);
    return (await os.list()).filter((info) => !info.deleted).map((info) => info.name);
  }

  async function until(what: string, boundMs: number, check: () => Promise<boolean>): Promise<void> {
    const started = Date.now();
    while (!(await check())) {
      if (Date.now() - started > boundMs) throw new Error(`${what} not within ${boundMs} ms\n${dumpLogs(t.net)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  it("deletes the blob of a task its app sent again (sealed afresh), and keeps the stored task's own", async () => {
    const task = newTask(APP1, [APP2], { body: bigBody(2 * MiB) });
    expect((await t.app1.postTask(task)).status).toBe(201);
    const before = await blobNames();
    expect((await t.app1.postTask(task)).status).toBe(201); // Samply.Beam's idempotent retry
    expect(await blobNames()).toEqual(before);
    const todo = await t.app2.get(`/v1/tasks/${task.id}`);
    expect(sha256((todo.json as { body: string }).body)).toBe(sha256(task.body));
  }, 60_000);

  it('deletes the blob of a refused message', async () => {
    const before = await blobNames();
    const refused = newTask(APP1, ['app1.proxy9.broker'], { body: bigBody(2 * MiB) });
    expect((await t.app1.postTask(refused)).status).toBe(424); // proxy9 has no certificate: nothing is sealed for it
    const task = newTask(APP1, [APP2], { body: bigBody(2 * MiB) });
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app1.postTask({ ...task, body: bigBody(2 * MiB) })).status).toBe(409); // another task under a live id
    expect((await blobNames()).length).toBe(before.length + 1);
  }, 60_000);

  it("deletes a task's blobs, its result's too, once the task expired and its events were purged", async () => {
    // Long enough for the result on a busy machine; the deletion is then waited for.
    const task = newTask(APP1, [APP2], { body: bigBody(2 * MiB), ttl: '10s' });
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: bigBody(2 * MiB) }))).status).toBe(201);
    const refs = [payloadOf(await log.taskCreated(task.id)), payloadOf(await log.resultPut(task.id, APP2))].map(
      (p) => (p.encrypted_blob as { sha256: string }).sha256,
    );
    const names = [`proxy1.broker/${refs[0]}`, `proxy2.broker/${refs[1]}`];
    expect(await blobNames()).toEqual(expect.arrayContaining(names));
    await until("the expired task's blobs deleted", 45_000, async () => (await blobNames()).every((n) => !names.includes(n)));
  }, 90_000);

  it('deletes a blob that no message names once BLOB_ORPHAN_GRACE passed, and keeps the blobs live tasks name', async () => {
    const kept = newTask(APP1, [APP2], { body: bigBody(2 * MiB), ttl: '10m' });
    expect((await t.app1.postTask(kept)).status).toBe(201);
    const keptName = `proxy1.broker/${(payloadOf(await log.taskCreated(kept.id)).encrypted_blob as { sha256: string }).sha256}`;
    // proxy1 uploads a blob and never sends the message that would name it (it failed, or it fills the store).
    const body = randomBytes(MiB).toString('base64');
    const digest = createHash('sha256').update(body).digest('base64url');
    const put = await sendRaw(
      t.net.brokerUrl,
      await signed(proxySigner(t.net, 0), { method: 'PUT', pathAndQuery: `/v1/blobs/${digest}?readers=proxy2.broker`, body }),
    );
    expect(put.status).toBe(201);
    const strayName = `proxy1.broker/${digest}`;
    const storedAt = Date.now();
    expect(await blobNames()).toEqual(expect.arrayContaining([strayName, keptName]));
    await until('the unnamed blob deleted', (ORPHAN_GRACE_S + 30) * 1000, async () => !(await blobNames()).includes(strayName));
    expect(Date.now() - storedAt).toBeGreaterThanOrEqual(ORPHAN_GRACE_S * 1000 - 1000); // not before its grace
    expect(await blobNames()).toContain(keptName);
    const read = await t.app2.get(`/v1/tasks/${kept.id}`);
    expect(sha256((read.json as { body: string }).body)).toBe(sha256(kept.body));
  }, 90_000);
});
