/**
 * Listings of any length are answered complete: 15,000 live tasks of 1 KiB once took broker-store down (its
 * single reply was larger than NATS's max_payload) and every read answered 502 until a restart.
 */
import { randomBytes } from 'node:crypto';
import { appendSignedTasks } from '@beamline/devnet';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { withPeakRss } from './support/processes';

const COUNT = 15_000;
let t: TestNetwork;
const report: string[] = [];

beforeAll(async () => {
  t = await startTestNetwork();
}, 120_000);

afterAll(async () => {
  if (report.length > 0) console.log(report.join('\n'));
  await t?.net.stop();
});

it(`answers a creator's listing and the worker's todo list of ${COUNT} live tasks complete`, async () => {
  const started = Date.now();
  const tasks = await appendSignedTasks(t.net, {
    senderProxy: 0,
    recipientProxy: 1,
    from: APP1,
    to: [APP2],
    count: COUNT,
    ttlSeconds: 900,
    body: () => randomBytes(512).toString('hex'),
  });
  report.push(`appended ${COUNT} signed 1 KiB tasks in ${Date.now() - started} ms`);
  const ids = new Set(tasks.map((task) => task.id));

  const byCreator = await withPeakRss(t.net, async () => {
    const t0 = Date.now();
    const res = await t.app1.get(`/v1/tasks?from=${APP1}`);
    return { res, ms: Date.now() - t0 };
  });
  if (byCreator.value.res.status !== 200)
    throw new Error(`creator listing answered ${byCreator.value.res.status}: ${byCreator.value.res.text.slice(0, 300)}\n${dumpLogs(t.net)}`);
  const listed = byCreator.value.res.json as { id: string; body: string }[];
  expect(listed).toHaveLength(COUNT);
  expect(new Set(listed.map((x) => x.id))).toEqual(ids);
  expect(listed.every((x) => x.body === '<encrypted>')).toBe(true);
  report.push(`creator listing (proxy1, ${COUNT} signatures checked): ${byCreator.value.ms} ms; peak RSS MB ${JSON.stringify(byCreator.peaks)}`);

  const byWorker = await withPeakRss(t.net, async () => {
    const t0 = Date.now();
    const res = await t.app2.get('/v1/tasks?filter=todo');
    return { res, ms: Date.now() - t0 };
  });
  expect(byWorker.value.res.status).toBe(200);
  const todo = byWorker.value.res.json as { id: string; body: string }[];
  expect(todo).toHaveLength(COUNT);
  const bodies = new Map(tasks.map((task) => [task.id, task.body]));
  expect(todo.every((x) => bodies.get(x.id) === x.body)).toBe(true);
  report.push(
    `worker's todo listing (proxy2, ${COUNT} signatures checked and keys unwrapped): ${byWorker.value.ms} ms; peak RSS MB ${JSON.stringify(byWorker.peaks)}`,
  );

  // The store stayed up and healthy throughout.
  const health = (await (await fetch(`${t.net.brokerUrl}/v1/health`)).json()) as { summary: string; store: { status: string } };
  expect(health.store.status).toBe('ok');
}, 240_000);
