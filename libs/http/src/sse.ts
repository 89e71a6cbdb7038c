/** Server-Sent Events on an Express response: one writer for the broker's and the proxy's streams. */
import type { Request, Response } from 'express';
import { drained } from './batched-writer';
import { InvalidInput } from '@beamline/domain';

export interface SseEvent {
  id?: string | number;
  event: string;
  data: string;
}

export class SseWriter {
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly res: Response,
    keepAliveMs: number,
  ) {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('Connection', 'keep-alive');
    res.setHeader('X-Accel-Buffering', 'no'); // reverse proxies must not buffer the stream
    res.flushHeaders();
    this.keepAlive = setInterval(() => this.comment('keep-alive'), keepAliveMs);
    res.on('close', () => clearInterval(this.keepAlive));
  }

  get closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  send(e: SseEvent): void {
    if (this.closed) return;
    const lines = e.id === undefined ? [] : [`id: ${e.id}`];
    lines.push(`event: ${e.event}`, ...e.data.split('\n').map((l) => `data: ${l}`));
    this.res.write(`${lines.join('\n')}\n\n`);
  }

  /** Resolves once the client has taken what was sent (or is gone): streams of big events stay bounded. */
  drained(): Promise<void> {
    return drained(this.res);
  }

  comment(text: string): void {
    if (!this.closed) this.res.write(`: ${text}\n\n`);
  }

  end(): void {
    clearInterval(this.keepAlive);
    if (!this.closed) this.res.end();
  }
}

export function wantsEventStream(req: Request): boolean {
  return String(req.headers.accept ?? '').includes('text/event-stream');
}

/** `Last-Event-ID` as a stream position (0 when absent); anything but a position we issued is a 400. */
export function lastEventId(req: Request): number {
  const raw = req.headers['last-event-id'];
  if (raw === undefined || raw === '') return 0;
  const value = String(raw).trim();
  if (!/^\d{1,15}$/.test(value)) throw new InvalidInput('Last-Event-ID: expected the id of an event we sent (a non-negative integer)', 'bad_last_event_id');
  return Number(value);
}
