/**
 * Removing an expired task's events from the live log must not move anyone reading it. nats-server 2.9
 * moves every consumer of a stream past a filtered purge's first remaining match (to the end of the stream
 * when nothing matching remains), so a reader that was behind — a replica replaying, the audit copier under
 * load — silently lost every message in between. The sweeper removes events by sequence instead.
 */
import { jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, EventLog, readStream } from '@beamline/nats';

const STREAM = 'REMOVAL_TEST';

let server: NatsServerHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let log: EventLog;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectNats(server.url, 'removal-spec');
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: STREAM, subjects: ['removal.>'], storage: StorageType.File });
  log = new EventLog(nc, STREAM);
}, 30_000);

afterAll(async () => {
  await nc?.close();
  await server?.stop();
});

describe('removing an expired aggregate from the live log', () => {
  it('leaves a reader that is behind with every other message, in order', async () => {
    // More than one pull's worth (100 messages) before the task's events, so the reader's consumer has not
    // delivered them when the removal happens.
    const live = Array.from({ length: 150 }, (_, i) => `live.${i}`);
    const subjectsInOrder = [...live.slice(0, 120), 't1.created', 'live.x', 't1.result', ...live.slice(120), 't1.expired', 'live.y'];
    const seqOf: Record<string, number> = {};
    for (const subject of subjectsInOrder) seqOf[subject] = (await log.append(`removal.${subject}`, { subject })).seq;
    const reader = readStream(nc, STREAM, { follow: false });
    expect((await reader.next()).value?.subject).toBe('removal.live.0');

    await log.remove([seqOf['t1.created'], seqOf['t1.result'], seqOf['t1.expired']]);

    const rest: string[] = [];
    for await (const m of reader) rest.push(m.subject.slice('removal.'.length));
    expect(rest).toEqual(subjectsInOrder.slice(1).filter((s) => !s.startsWith('t1.')));
  });

  it('takes the removed events out of the stream and counts each once', async () => {
    const seqs: number[] = [];
    for (const subject of ['t2.created', 't2.result', 't2.expired']) seqs.push((await log.append(`removal.${subject}`, {})).seq);
    expect(await log.remove([...seqs, seqs[0]])).toBe(3);
    for (const seq of seqs) await expect(jsm.streams.getMessage(STREAM, { seq })).resolves.toBeNull();
  });
});
