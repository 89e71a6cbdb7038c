/**
 * No message on NATS can end a broker process: malformed notifications, store queries, pings and relay
 * messages cost a log line, and every component keeps serving. (Anyone with publish rights on the broker's
 * NATS could send these; so could a buggy replica of another version.)
 */
import { connectNats, subjects } from '@beamline/nats';
import type { NatsConnection } from '@nats-io/nats-core';
import { newTask } from './support/app-client';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { isAlive } from './support/processes';

let t: TestNetwork;
let nc: NatsConnection;

beforeAll(async () => {
  t = await startTestNetwork();
  nc = await connectNats(t.net.natsUrl, 'resilience-test');
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await t?.net.stop();
});

const garbage = [
  new TextEncoder().encode('not json'),
  new TextEncoder().encode('{"seq":'),
  new TextEncoder().encode('null'),
  new Uint8Array([0xff, 0xfe, 0x00]),
];

it('keeps every process up and serving when malformed messages arrive on the subjects it listens to', async () => {
  // A waiter, so the notification subscription has a listener for app2's subject.
  const waiting = t.app2.get('/v1/tasks?filter=todo&wait_count=1&wait_time=20s');
  await new Promise((r) => setTimeout(r, 300));
  const pids = [...t.net.services.values()].map((s) => [s.name, s.pid] as const);

  for (const data of garbage) {
    nc.publish(subjects.notifyApp(APP2), data);
    nc.publish(subjects.notifyTask('11111111-1111-4111-8111-111111111111'), data);
    nc.publish(`beam.sock.${'22222222-2222-4222-8222-222222222222'}.a.hello`, data);
    await nc.request(subjects.storeQuery, data, { timeout: 2_000 }).catch(() => undefined);
    await nc.request(subjects.storePing, data, { timeout: 2_000 }).catch(() => undefined);
  }
  await nc.flush();

  // The waiter is still served: a task for app2 wakes it.
  const task = newTask(APP1, [APP2]);
  expect((await t.app1.postTask(task)).status).toBe(201);
  const woken = await waiting;
  expect(woken.status).toBe(200);
  expect((woken.json as { id: string }[]).map((x) => x.id)).toContain(task.id);

  for (const [name, pid] of pids) {
    const alive = isAlive(pid);
    if (!alive) throw new Error(`${name} (pid ${pid}) died:\n${dumpLogs(t.net)}`);
  }
  expect((await fetch(`${t.net.brokerUrl}/v1/health`)).status).toBe(200);
  // Nothing unexpected was logged as an unhandled error.
  expect(dumpLogs(t.net)).not.toMatch(/unhandled|uncaught/i);
}, 60_000);
