/**
 * Wake-ups over core NATS against a real nats-server: published after an append, heard by every subscribed
 * replica, and after a NATS restart the subscription works again and says it reconnected (notifications sent
 * meanwhile are lost, so waiters must re-read).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, Notifications, subjects, type NotificationSubscription } from '@beamline/nats';

let server: NatsServerHandle;
let listener: NatsConnection;
let writer: NatsConnection;
let sub: NotificationSubscription;
const heard: Array<{ subject: string; seq: number }> = [];
let reconnects = 0;
let writerReconnects = 0;

beforeAll(async () => {
  server = await startNatsServer();
  listener = await connectNats(server.url, 'notifications-spec-listener');
  writer = await connectNats(server.url, 'notifications-spec-writer');
  void (async () => {
    for await (const s of writer.status()) if (s.type === 'reconnect') writerReconnects++;
  })();
  sub = new Notifications(listener).subscribe({
    notified: (subject, seq) => heard.push({ subject, seq }),
    reconnected: () => reconnects++,
    failed: (message) => {
      throw new Error(message);
    },
  });
  await listener.flush();
}, 30_000);

afterAll(async () => {
  sub?.close();
  await listener?.close();
  await writer?.close();
  await server?.stop();
});

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('delivers a notification to another connection with the sequence it announces', async () => {
  new Notifications(writer).publish([subjects.notifyApp('app1.proxy1.broker'), subjects.notifyTask('7d2c7d43-1ee4-4d8c-9d5b-6f6f3f0a4b11')], 42);
  await until(() => heard.length >= 2, 5_000);
  expect(heard.slice(-2)).toEqual([
    { subject: subjects.notifyApp('app1.proxy1.broker'), seq: 42 },
    { subject: subjects.notifyTask('7d2c7d43-1ee4-4d8c-9d5b-6f6f3f0a4b11'), seq: 42 },
  ]);
});

it('reads an unreadable notification as a wake-up that promises nothing (seq 0)', async () => {
  writer.publish(subjects.notifyApp('app2.proxy2.broker'), new TextEncoder().encode('not json'));
  await until(() => heard.some((h) => h.subject === subjects.notifyApp('app2.proxy2.broker')), 5_000);
  expect(heard.find((h) => h.subject === subjects.notifyApp('app2.proxy2.broker'))?.seq).toBe(0);
});

it('says it reconnected after a NATS restart, and hears notifications again', async () => {
  const [before, writerBefore] = [reconnects, writerReconnects];
  await server.restart();
  await until(() => reconnects > before && writerReconnects > writerBefore, 20_000);
  const count = heard.length;
  new Notifications(writer).publish([subjects.notifyApp('app1.proxy1.broker')], 43);
  await until(() => heard.length > count, 5_000);
  expect(heard.at(-1)).toEqual({ subject: subjects.notifyApp('app1.proxy1.broker'), seq: 43 });
});
