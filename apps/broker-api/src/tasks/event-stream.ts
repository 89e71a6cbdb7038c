/**
 * Server-Sent Events over the views: first every existing item after `Last-Event-ID`, then each new or
 * updated item as it arrives (woken by notifications, read with minSeq), each with `id:` = its stream
 * sequence, so a reconnect resumes without loss or duplicates. Ends when the wait condition holds, at
 * wait_time (`wait_expired`, data null), or when the task expires (`wait_expired`, data "Task expired").
 * Without wait parameters it sends what exists and ends.
 */
import { NotFound, type WaitParams } from '@beamline/domain';
import type { SseWriter } from '@beamline/http';
import { Wakeups } from './wakeups';

export interface StreamSnapshot<T> {
  items: T[];
  expiresAt?: number;
}

export interface EventStreamSpec<T extends { seq: number }> {
  wakeOn: string[];
  /** Throws NotFound once the subject of the stream is gone (expired). */
  fetch: (minSeq?: number) => Promise<StreamSnapshot<T>>;
  /** How many of the items count towards wait_count. */
  count: (items: T[]) => number;
  eventName: string;
  wait: WaitParams;
  afterSeq: number;
  signal: AbortSignal;
}

export async function streamEvents<T extends { seq: number }>(wakeups: Wakeups, writer: () => SseWriter, spec: EventStreamSpec<T>): Promise<void> {
  let minSeq = 0;
  let woken = false;
  let wake: (() => void) | undefined;
  const stop = wakeups.listen(spec.wakeOn, (seq) => {
    minSeq = Math.max(minSeq, seq);
    woken = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  spec.signal.addEventListener('abort', onAbort);
  const deadline = Date.now() + spec.wait.waitMs;
  let sse: SseWriter | undefined;
  try {
    // The first read happens before the stream opens, so 403/404 are still answered as JSON.
    let snapshot: StreamSnapshot<T> | undefined = await spec.fetch();
    sse = writer();
    let sent = spec.afterSeq;
    for (;;) {
      if (snapshot === undefined || (snapshot.expiresAt !== undefined && Date.now() >= snapshot.expiresAt)) {
        sse.send({ event: 'wait_expired', data: JSON.stringify('Task expired') });
        return;
      }
      for (const item of [...snapshot.items].sort((a, b) => a.seq - b.seq)) {
        if (item.seq <= sent) continue;
        sse.send({ id: item.seq, event: spec.eventName, data: JSON.stringify(item) });
        sent = item.seq;
      }
      if (spec.wait.waitMs === 0) return;
      if (spec.wait.waitCount !== undefined && spec.count(snapshot.items) >= spec.wait.waitCount) return;
      const end = Math.min(deadline, snapshot.expiresAt ?? Infinity);
      if (Date.now() >= deadline) {
        sse.send({ event: 'wait_expired', data: 'null' });
        return;
      }
      if (!woken) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, end - Date.now()));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      if (spec.signal.aborted || sse.closed) return;
      woken = false;
      snapshot = await spec.fetch(minSeq || undefined).catch((err) => {
        if (err instanceof NotFound) return undefined;
        throw err;
      });
    }
  } finally {
    stop();
    spec.signal.removeEventListener('abort', onAbort);
    sse?.end();
  }
}
