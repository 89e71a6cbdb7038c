/**
 * Answers with a JSON array written item by item as the items arrive, with backpressure: a listing of any
 * length passes through with bounded memory. The first item is awaited before the status goes out, so an
 * early failure is still a proper JSON error; a failure after that can only cut the connection (the error
 * filter destroys a response whose headers were sent), which the client sees as a truncated body — never as
 * a complete-looking but shortened list.
 */
import { once } from 'node:events';
import type { Response } from 'express';

export async function writeJsonArray(res: Response, status: number, items: AsyncIterable<unknown>): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  let next = await iterator.next();
  res.status(status).setHeader('Content-Type', 'application/json; charset=utf-8');
  let separator = '[';
  try {
    for (; !next.done; next = await iterator.next()) {
      if (next.value === undefined) continue;
      const ok = res.write(separator + JSON.stringify(next.value));
      separator = ',';
      if (!ok) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      if (res.destroyed) return;
    }
    res.end(separator === '[' ? '[]' : ']');
  } finally {
    await iterator.return?.();
  }
}
