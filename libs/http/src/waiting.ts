import type { Request } from 'express';

/**
 * Whether a request may hold its connection open: a long-poll (`wait_count` or `wait_time` given) or a
 * Server-Sent Events stream. These are what caps on waiting clients count.
 */
export function isWaitingRequest(req: Request): boolean {
  if (req.method !== 'GET') return false;
  if (req.query.wait_count !== undefined || req.query.wait_time !== undefined) return true;
  return String(req.headers.accept ?? '').includes('text/event-stream');
}
