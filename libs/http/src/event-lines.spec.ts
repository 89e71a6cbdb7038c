import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { IncompleteAnswer, isSpliceable, readEventLines, writeEventLines, type StoredEvent } from './event-lines';
import { writeJsonArray } from './json-array';

const enc = (s: string) => new TextEncoder().encode(s);

async function collect(body: AsyncIterable<Uint8Array>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const line of readEventLines(body)) out.push(line);
  return out;
}

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield enc(p);
}

async function* events(list: StoredEvent[], fail?: Error): AsyncGenerator<StoredEvent> {
  for (const e of list) yield e;
  if (fail) throw fail;
}

describe('event lines', () => {
  let server: Server;
  let url: string;
  let handler: (res: express.Response) => Promise<void>;

  beforeAll(async () => {
    const app = express();
    app.get('/', (_req, res) => {
      handler(res).catch(() => res.destroy());
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('streams stored events as lines with an end line, and reads them back complete', async () => {
    const stored = Array.from({ length: 5_000 }, (_, i) => ({
      seq: i + 1,
      data: enc(JSON.stringify({ type: 'TaskCreated', n: i, pad: 'x'.repeat(i % 300) })),
    }));
    handler = (res) => writeEventLines(res, 206, events(stored), () => undefined);
    const res = await fetch(url);
    expect(res.status).toBe(206);
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = await collect(res.body as unknown as AsyncIterable<Uint8Array>);
    expect(lines).toHaveLength(5_000);
    expect(lines[4_999]).toEqual({ seq: 5_000, event: { type: 'TaskCreated', n: 4_999, pad: 'x'.repeat(4_999 % 300) } });
  });

  it('skips a stored event that is not a single-line JSON object, and counts only what it sent', async () => {
    const skipped: number[] = [];
    handler = (res) =>
      writeEventLines(
        res,
        200,
        events([
          { seq: 1, data: enc('{"a":1}') },
          { seq: 2, data: enc('{"a":\n2}') },
          { seq: 3, data: enc('[1]') },
          { seq: 4, data: enc('{"a":4}') },
        ]),
        (seq) => skipped.push(seq),
      );
    const lines = await collect((await fetch(url)).body as unknown as AsyncIterable<Uint8Array>);
    expect(lines).toEqual([
      { seq: 1, event: { a: 1 } },
      { seq: 4, event: { a: 4 } },
    ]);
    expect(skipped).toEqual([2, 3]);
  });

  it('cuts the connection when the log fails mid-answer, which the reader reports as incomplete', async () => {
    const stored = Array.from({ length: 3_000 }, (_, i) => ({ seq: i + 1, data: enc(`{"n":${i},"pad":"${'y'.repeat(100)}"}`) }));
    handler = (res) => writeEventLines(res, 200, events(stored, new Error('NATS went away')), () => undefined);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    await expect(collect(res.body as unknown as AsyncIterable<Uint8Array>)).rejects.toThrow();
  });

  it('answers nothing at all when the first read fails (so an error status can still be sent)', async () => {
    let headersSent: boolean | undefined;
    handler = async (res) => {
      try {
        await writeEventLines(res, 200, events([], new Error('no log')), () => undefined);
      } finally {
        headersSent = res.headersSent;
        res.status(503).json({ error: 'nats_unavailable' });
      }
    };
    const res = await fetch(url);
    expect(res.status).toBe(503);
    expect(headersSent).toBe(false);
  });

  it('writes a JSON array item by item, skipping refused (undefined) items', async () => {
    handler = (res) =>
      writeJsonArray(
        res,
        200,
        (async function* () {
          for (let i = 0; i < 10_000; i++) yield i % 3 === 0 ? undefined : { i };
        })(),
      );
    const body = (await (await fetch(url)).json()) as { i: number }[];
    expect(body).toHaveLength(6_666);
    expect(body[0]).toEqual({ i: 1 });
    handler = (res) => writeJsonArray(res, 206, (async function* () {})());
    const empty = await fetch(url);
    expect(empty.status).toBe(206);
    expect(await empty.json()).toEqual([]);
  });
});

describe('readEventLines', () => {
  it('reassembles lines split across chunks, including one much longer than any chunk', async () => {
    const big = 'z'.repeat(200_000);
    const text = `{"seq":1,"event":{"a":1}}\n{"seq":2,"event":{"b":"${big}"}}\n{"end":2}\n`;
    const parts: string[] = [];
    for (let i = 0; i < text.length; i += 7_919) parts.push(text.slice(i, i + 7_919));
    const lines = await collect(chunks(...parts));
    expect(lines).toEqual([
      { seq: 1, event: { a: 1 } },
      { seq: 2, event: { b: big } },
    ]);
  });

  it('throws IncompleteAnswer when the stream ends without its end line', async () => {
    await expect(collect(chunks('{"seq":1,"event":{}}\n{"seq":2,"ev'))).rejects.toThrow(IncompleteAnswer);
  });

  it('throws IncompleteAnswer when the end line counts differently', async () => {
    await expect(collect(chunks('{"seq":1,"event":{}}\n{"end":2}\n'))).rejects.toThrow(/announced 2 lines, 1 arrived/);
  });

  it('yields undefined for a line that is not JSON, and still checks the count', async () => {
    expect(await collect(chunks('garbage\n{"seq":2,"event":{}}\n{"end":2}\n'))).toEqual([undefined, { seq: 2, event: {} }]);
  });
});

describe('isSpliceable', () => {
  it.each([
    ['{"a":1}', true],
    ['{"a":"\\n escaped is fine"}', true],
    ['{"a":\n1}', false],
    ['{"a":\r1}', false],
    ['[1]', false],
    ['', false],
  ])('%j → %s', (text, expected) => {
    expect(isSpliceable(enc(text))).toBe(expected);
  });
});
