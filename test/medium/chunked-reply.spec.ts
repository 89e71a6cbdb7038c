/** Medium tier: framed answers against a real nats-server. */
import type { NatsConnection } from '@nats-io/nats-core';
import { startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { connectNats, encodeJson, IncompleteReply, MAX_FRAME_BYTES, requestInChunks, serveChunked, type ChunkedAnswer } from '@beamline/nats';

let SUBJECT = 'test.chunked';
let testNo = 0;

describe('framed answers (chunked-reply)', () => {
  let nats: NatsServerHandle;
  let server: NatsConnection;
  let client: NatsConnection;
  let served: { unsubscribe(): void } | undefined;
  const errors: string[] = [];

  beforeAll(async () => {
    nats = await startNatsServer();
    server = await connectNats(nats.url, 'chunked-server');
    client = await connectNats(nats.url, 'chunked-client');
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
    await nats?.stop();
  });

  beforeEach(() => {
    // A subject per test: an unsubscribe from the last test may reach the server after this test's request.
    SUBJECT = `test.chunked.${++testNo}`;
  });

  afterEach(() => {
    served?.unsubscribe();
    served = undefined;
    errors.length = 0;
  });

  /** Subscribes and waits until the server has the subscription (the requests come on another connection). */
  async function serve(answer: (query: string) => ChunkedAnswer | Promise<ChunkedAnswer>): Promise<void> {
    served = serveChunked(server, {
      subject: SUBJECT,
      answer: async (data) => answer(new TextDecoder().decode(data)),
      onError: (message) => errors.push(message),
    });
    await server.flush();
  }

  const ask = (query: string) => requestInChunks(client, SUBJECT, new TextEncoder().encode(query), 5_000);

  it('delivers 50,000 items complete and in order, in frames no bigger than the frame budget', async () => {
    const items = Array.from({ length: 50_000 }, (_, i) => ({ seq: i + 1, bytes: 2_000 + i, expiresAt: 1_800_000_000_000 }));
    await serve(() => ({ head: { seq: 99 }, items }));
    const frames: number[] = [];
    const tap = client.subscribe('_INBOX.>', { callback: (_err, m) => void frames.push(m.data.length) });
    const reply = await ask('all');
    tap.unsubscribe();
    expect(reply).toEqual({ head: { seq: 99 }, items });
    expect(frames.length).toBeGreaterThan(5);
    expect(Math.max(...frames)).toBeLessThanOrEqual(MAX_FRAME_BYTES);
  });

  it('answers reply_failed, and keeps serving, when an answer cannot be sent', async () => {
    // One item bigger than the server's max_payload (32 MiB here): publishing its frame throws in the client.
    const huge = 'x'.repeat(33 * 1024 * 1024);
    await serve((query) => (query === 'huge' ? { head: { seq: 1 }, items: [huge] } : { head: { seq: 2 }, items: ['small'] }));
    const failed = await ask('huge');
    expect(failed).toEqual({ error: { error: 'reply_failed', message: expect.stringContaining('could not be sent') } });
    expect(errors.join('\n')).toContain(`could not send an answer on ${SUBJECT}`);
    expect(await ask('small')).toEqual({ head: { seq: 2 }, items: ['small'] });
  });

  it('answers reply_failed when answering throws, and keeps serving', async () => {
    await serve((query) => {
      if (query === 'boom') throw new Error('projection exploded');
      return { head: { seq: 3 }, items: [] };
    });
    expect(await ask('boom')).toEqual({ error: { error: 'reply_failed', message: 'the responder failed to answer' } });
    expect(errors.join('\n')).toContain('projection exploded');
    expect(await ask('fine')).toEqual({ head: { seq: 3 }, items: [] });
  });

  it('passes a refusal through as the error frame', async () => {
    await serve(() => ({ error: { error: 'not_found', message: 'task x not found' } }));
    expect(await ask('x')).toEqual({ error: { error: 'not_found', message: 'task x not found' } });
  });

  it('rejects an answer with a missing frame instead of returning it short', async () => {
    const sub = server.subscribe(SUBJECT, {
      callback: (_err, msg) => {
        msg.respond(encodeJson({ part: 0, last: false, head: { seq: 1 }, items: [1] }));
        msg.respond(encodeJson({ part: 2, last: true, items: [3] })); // part 1 was lost on the way
      },
    });
    await server.flush();
    try {
      await expect(ask('q')).rejects.toThrow(IncompleteReply);
    } finally {
      sub.unsubscribe();
    }
  });

  it('rejects an answer whose last frame never comes, at the deadline', async () => {
    const sub = server.subscribe(SUBJECT, { callback: (_err, msg) => void msg.respond(encodeJson({ part: 0, last: false, head: { seq: 1 }, items: [1] })) });
    await server.flush();
    try {
      const started = Date.now();
      await expect(requestInChunks(client, SUBJECT, new Uint8Array(0), 500)).rejects.toThrow(/only 1 frame/);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      sub.unsubscribe();
    }
  });
});
