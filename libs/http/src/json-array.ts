/**
 * Answers with a JSON array written item by item as the items arrive, with backpressure: a listing of any
 * length passes through with bounded memory. The first item is awaited before the status goes out, so an
 * early failure is still a proper JSON error; a failure after that can only cut the connection (the error
 * filter destroys a response whose headers were sent), which the client sees as a truncated body — never as
 * a complete-looking but shortened list.
 */
import type { Response } from 'express';
import { BatchedWriter } from './batched-writer';

export async function writeJsonArray(res: Response, status: number, items: AsyncIterable<unknown>): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  let next = await iterator.next();
  res.status(status).setHeader('Content-Type', 'application/json; charset=utf-8');
  const batch = new BatchedWriter(res);
  let separator = '[';
  try {
    for (; !next.done; next = await iterator.next()) {
      if (next.value === undefined) continue;
      batch.add(separator, JSON.stringify(next.value));
      separator = ',';
      if (batch.full && !(await batch.flush())) return;
    }
    batch.add(separator === '[' ? '[]' : ']');
    await batch.flush();
    res.end();
  } finally {
    await iterator.return?.();
  }
}
