/**
 * How broker-api streams stored events to a proxy: newline-delimited JSON, one `{"seq":N,"event":{…}}` per
 * line with the event exactly as the log stores it (spliced in, never parsed and re-serialised on the way),
 * and a closing `{"end":<lines>}` so the proxy can tell a complete answer from a cut one. The same item is
 * the `data:` of an SSE event. Answers are written as the messages arrive from the log, with backpressure,
 * so neither side holds a whole listing in memory.
 */
import type { Response } from 'express';
import { BatchedWriter } from './batched-writer';

export const EVENT_LINES_TYPE = 'application/x-ndjson';

/** One line of an answer: the stored event at `seq`, as JSON. */
export interface EventLine {
  seq: number;
  event: unknown;
}

export interface StoredEvent {
  seq: number;
  data: Uint8Array;
}

const LF = 0x0a;
const CR = 0x0d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether stored bytes can be spliced into a line as they are: a JSON object with no raw line break (which
 * JSON.stringify never writes, and which would end an NDJSON line or an SSE data field early).
 */
export function isSpliceable(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === OPEN_BRACE && data[data.length - 1] === CLOSE_BRACE && data.indexOf(LF) < 0 && data.indexOf(CR) < 0;
}

/** The SSE `data:` (and NDJSON line, without its newline) for a stored event. */
export function eventLineText(stored: StoredEvent): string {
  return `{"seq":${stored.seq},"event":${Buffer.from(stored.data.buffer, stored.data.byteOffset, stored.data.length).toString('utf8')}}`;
}

/**
 * Answers with `status` and streams `events` as lines. The first event is read before the status goes out,
 * so a log that cannot be read at all is still answered with a proper error; a failure after that can only
 * cut the connection (the error filter destroys a response whose headers were sent), which the proxy sees
 * as an answer without its end line. Events that cannot be spliced safely are skipped (`onSkip`).
 */
export async function writeEventLines(res: Response, status: number, events: AsyncIterable<StoredEvent>, onSkip: (seq: number) => void): Promise<void> {
  const iterator = events[Symbol.asyncIterator]();
  let next = await iterator.next();
  res.status(status).setHeader('Content-Type', EVENT_LINES_TYPE);
  // Lines go out in batches: one socket write per line costs more than the line itself for small events.
  const batch = new BatchedWriter(res);
  let lines = 0;
  try {
    for (; !next.done; next = await iterator.next()) {
      const stored = next.value;
      if (!isSpliceable(stored.data)) {
        onSkip(stored.seq);
        continue;
      }
      batch.add(`{"seq":${stored.seq},"event":`, stored.data, CLOSE_LINE);
      lines++;
      if (batch.full && !(await batch.flush())) return;
    }
    batch.add(`{"end":${lines}}\n`);
    await batch.flush();
    res.end();
  } finally {
    await iterator.return?.();
  }
}

const CLOSE_LINE = Buffer.from('}\n');
/** An answer whose stream ended before its end line, or whose end line counts differently. */
export class IncompleteAnswer extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteAnswer';
  }
}

/**
 * Reads an answer written by writeEventLines: yields each line's JSON (undefined for a line that is not
 * JSON: the caller refuses it like any message that fails verification), and throws IncompleteAnswer when the
 * stream ends without a matching end line.
 */
export async function* readEventLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<unknown> {
  let pending: Buffer[] = [];
  let lines = 0;
  let ended = false;
  const take = (line: Buffer): unknown => {
    let json: unknown;
    try {
      json = JSON.parse(line.toString('utf8'));
    } catch {
      lines++;
      return undefined;
    }
    const end = (json as { end?: unknown } | null)?.end;
    if (typeof end === 'number' && Object.keys(json as object).length === 1) {
      if (end !== lines) throw new IncompleteAnswer(`the broker announced ${end} lines, ${lines} arrived`);
      ended = true;
      return END;
    }
    lines++;
    return json;
  };
  for await (const chunk of body) {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    for (let lf = data.indexOf(LF); lf >= 0; lf = data.indexOf(LF)) {
      const line = pending.length === 0 ? data.subarray(0, lf) : Buffer.concat([...pending, data.subarray(0, lf)]);
      pending = [];
      data = data.subarray(lf + 1);
      if (ended) throw new IncompleteAnswer('data after the end line');
      const item = take(line);
      if (item !== END) yield item;
    }
    if (data.length > 0) pending.push(data);
  }
  if (!ended) throw new IncompleteAnswer(`the answer stopped after ${lines} lines, without its end`);
}

const END = Symbol('end');
