import type { ServerResponse } from 'node:http';
import { BeamClient } from './client';
import { BeamAbortError, BeamHttpError, BeamNetworkError } from './errors';
import { eventually, json, startLocalServer, type Handler, type LocalServer } from './testing/local-server';
import type { ClientOptions, TaskResult } from './types';

const APP = 'app1.proxy1.broker';
const TASK_ID = '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8';

let server: LocalServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function clientFor(handler: Handler, options: ClientOptions = {}): Promise<BeamClient> {
  server = await startLocalServer(handler);
  return new BeamClient(APP, 'App1Secret', server.url, { retryBaseDelayMs: 1, retryMaxDelayMs: 5, ...options });
}

const result = (from: string, status: TaskResult['status'], body?: string): TaskResult => ({
  from,
  to: [APP],
  task: TASK_ID,
  status,
  metadata: null,
  ...(body === undefined ? {} : { body }),
});

function openStream(res: ServerResponse): ServerResponse {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(': keep-alive\n\n');
  return res;
}

const event = (id: number, name: string, value: unknown): string => `id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(value)}\n\n`;

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

describe('streamResults', () => {
  it('asks for an event stream and yields each new_result until wait_count non-claimed results arrived', async () => {
    const client = await clientFor((_req, res) => {
      openStream(res).write(event(3, 'new_result', result('w1.p.b', 'claimed')));
      // A multi-line data field: JSON may span lines.
      res.write(
        `id: 4\nevent: new_result\ndata: {"from":"w1.p.b","to":["${APP}"],"task":"${TASK_ID}",\ndata: "status":"succeeded","metadata":null,"body":"{\\"n\\":42}"}\n\n`,
      );
      res.end(event(5, 'new_result', result('w2.p.b', 'succeeded', '{"n":43}')));
    });
    const stream = client.streamResults<{ n: number }>(TASK_ID, { waitCount: 2, waitTimeMs: 20_000, bodies: 'json' });
    const items = await collect(stream);
    expect(items.map((r) => [r.from, r.status, r.body?.n])).toEqual([
      ['w1.p.b', 'claimed', undefined],
      ['w1.p.b', 'succeeded', 42],
      ['w2.p.b', 'succeeded', 43],
    ]);
    expect(stream.endReason).toBe('complete');
    expect(stream.lastEventId).toBe('5');
    const req = server?.requests[0];
    expect(req?.url).toBe(`/v1/tasks/${TASK_ID}/results?wait_count=2&wait_time=20000ms`);
    expect(req?.headers.accept).toBe('text/event-stream');
    expect(server?.requests).toHaveLength(1);
  });

  it('resumes a dropped stream with Last-Event-ID and the rest of wait_time: no loss, no duplicates', async () => {
    const client = await clientFor((_req, res, n) => {
      openStream(res);
      if (n === 0) {
        res.write(event(7, 'new_result', result('w1.p.b', 'succeeded', 'one')));
        res.write('id: 8\nevent: new_result\ndata: {"half an event'); // cut mid-event: never yielded
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      }
      res.end(event(9, 'new_result', result('w2.p.b', 'succeeded', 'two')));
    });
    const stream = client.streamResults(TASK_ID, { waitCount: 2, waitTimeMs: 10_000 });
    expect((await collect(stream)).map((r) => r.body)).toEqual(['one', 'two']);
    const [first, second] = server?.requests ?? [];
    expect(first.headers['last-event-id']).toBeUndefined();
    expect(second.headers['last-event-id']).toBe('7');
    expect(Number(/wait_time=(\d+)ms/.exec(second.url)?.[1])).toBeLessThan(10_000);
  });

  it("reconnects after a clean end that left the wait unmet, and after the proxy's 'broker stream interrupted'", async () => {
    const client = await clientFor((_req, res, n) => {
      openStream(res);
      if (n === 0) return res.end(event(1, 'new_result', result('w1.p.b', 'succeeded', 'a'))); // wait_count 2 not met
      if (n === 1) return res.end(`${event(2, 'new_result', result('w2.p.b', 'succeeded', 'b'))}: broker stream interrupted\n\n`);
      res.end();
    });
    expect((await collect(client.streamResults(TASK_ID, { waitCount: 3 }))).map((r) => r.body)).toEqual(['a', 'b']);
    expect(server?.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '1', '2']);
  });

  it('takes a connection silent for longer than streamIdleTimeoutMs as dropped and resumes it', async () => {
    const client = await clientFor(
      (_req, res, n) => {
        if (n === 0) return openStream(res).write(event(1, 'new_result', result('w1.p.b', 'succeeded', 'a'))); // then silence
        openStream(res).end(event(2, 'new_result', result('w2.p.b', 'succeeded', 'b')));
      },
      { streamIdleTimeoutMs: 200 },
    );
    expect((await collect(client.streamResults(TASK_ID, { waitCount: 2 }))).map((r) => r.body)).toEqual(['a', 'b']);
    expect(server?.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '1']);
  });

  it('ends without reconnecting when a resumed connection ends cleanly with nothing new (the proxy counts it done)', async () => {
    const client = await clientFor((_req, res, n) => {
      openStream(res);
      res.end(n === 0 ? event(1, 'new_result', result('w1.p.b', 'succeeded', 'a')) : undefined);
    });
    const stream = client.streamResults(TASK_ID, { waitCount: 2 });
    expect(await collect(stream)).toHaveLength(1);
    expect(stream.endReason).toBe('complete');
    expect(server?.requests).toHaveLength(2);
  });

  it('ends with wait_expired when the time ran out and task_expired when the task did', async () => {
    for (const [data, reason] of [
      ['null', 'wait_expired'],
      ['"Task expired"', 'task_expired'],
    ]) {
      const client = await clientFor((_req, res) => openStream(res).end(`event: wait_expired\ndata: ${data}\n\n`));
      const stream = client.streamResults(TASK_ID, { waitCount: 1, waitTimeMs: 1000 });
      expect(await collect(stream)).toEqual([]);
      expect(stream.endReason).toBe(reason);
      await server?.close();
    }
  });

  it('closes the connection when the loop is left early', async () => {
    const client = await clientFor((_req, res) => openStream(res).write(event(1, 'new_result', result('w1.p.b', 'succeeded', 'a')))); // stays open
    for await (const item of client.streamResults(TASK_ID, { waitCount: 5 })) {
      expect(item.body).toBe('a');
      break;
    }
    await eventually(() => server?.closedConnections() === 1);
    expect(server?.requests).toHaveLength(1);
  });

  it('stops at once on abort, while connected or while backing off', async () => {
    const client = await clientFor((_req, res) => openStream(res));
    const controller = new AbortController();
    const reading = collect(client.streamResults(TASK_ID, { waitCount: 1, signal: controller.signal }));
    await eventually(() => server?.requests.length === 1);
    controller.abort();
    await expect(reading).rejects.toBeInstanceOf(BeamAbortError);
    await eventually(() => server?.closedConnections() === 1);
    await server?.close();

    const dropping = await clientFor((_req, res) => res.socket?.destroy(), { retryBaseDelayMs: 60_000, retryMaxDelayMs: 60_000 });
    const backingOff = new AbortController();
    const started = Date.now();
    const retrying = collect(dropping.streamResults(TASK_ID, { waitCount: 1, signal: backingOff.signal }));
    await eventually(() => server?.requests.length === 1);
    backingOff.abort();
    await expect(retrying).rejects.toBeInstanceOf(BeamAbortError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('fails on a 4xx answer without retrying, and after the retries when the stream keeps dropping', async () => {
    const forbidden = await clientFor((_req, res) => json(res, 403, { error: 'forbidden', message: 'not the creator' }));
    await expect(collect(forbidden.streamResults(TASK_ID))).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(server?.requests).toHaveLength(1);
    await server?.close();

    const dropping = await clientFor((_req, res) => res.socket?.destroy(), { retries: 2 });
    const err = await collect(dropping.streamResults(TASK_ID, { waitCount: 1 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamNetworkError);
    expect(server?.requests).toHaveLength(3);
  });

  it('refuses an answer that is not an event stream', async () => {
    const client = await clientFor((_req, res) => json(res, 200, []));
    await expect(collect(client.streamResults(TASK_ID))).rejects.toMatchObject({ code: 'not_event_stream' });
  });

  it('resumes after a lastEventId given by the caller', async () => {
    const client = await clientFor((_req, res) => openStream(res).end());
    await collect(client.streamResults(TASK_ID, { lastEventId: '41' }));
    expect(server?.requests[0].headers['last-event-id']).toBe('41');
    expect(() => client.streamResults(TASK_ID, { lastEventId: '1\n2' })).toThrow(TypeError);
  });
});

describe('streamTasks', () => {
  it('streams todo tasks as new_task events until wait_count tasks arrived, ignoring other events', async () => {
    const task = (id: string) => ({ id, from: 'a.p.b', to: [APP], body: 'work', ttl: '60s', failure_strategy: 'discard', metadata: null });
    const client = await clientFor((_req, res) => {
      openStream(res).write(event(1, 'new_task', task('t1')));
      res.write(event(2, 'something_else', {}));
      setTimeout(() => res.end(event(3, 'new_task', task('t2'))), 20);
    });
    const tasks = await collect(client.streamTasks({ waitCount: 2, waitTimeMs: 5000 }));
    expect(tasks.map((t) => t.id)).toEqual(['t1', 't2']);
    expect(server?.requests[0].url).toBe('/v1/tasks?filter=todo&wait_count=2&wait_time=5000ms');
  });

  it('can be iterated once only', async () => {
    const client = await clientFor((_req, res) => openStream(res).end());
    const stream = client.streamTasks();
    await collect(stream);
    expect(() => stream[Symbol.asyncIterator]()).toThrow('once');
    expect(BeamHttpError).toBeDefined();
  });
});
