/**
 * Server-Sent Events over the views: first every existing item after `Last-Event-ID`, then each new or
 * updated item as it arrives (woken by notifications, read with minSeq), each with `id:` = its stream
 * sequence, so a reconnect resumes without loss or duplicates. Ends when the wait condition holds, at
 * wait_time (`wait_expired`, data null), or when the task expires (`wait_expired`, data "Task expired").
 * Without wait parameters it sends what exists and ends.
 */
import { NotFound, type WaitParams } from '@beamline/domain';
import { eventLineText, isSpliceable, type SseWriter } from '@beamline/http';
import type { EventReader, MessageRef } from '@beamline/nats';
import { WakeSignal } from './wake-signal';
import { Wakeups } from './wakeups';

export interface StreamSnapshot<T> {
  items: T[];
  expiresAt?: number;
}

export interface EventStreamSpec<T extends MessageRef> {
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

export async function streamEvents<T extends MessageRef>(
  wakeups: Wakeups,
  reader: EventReader,
  writer: () => SseWriter,
  spec: EventStreamSpec<T>,
): Promise<void> {
  const deadline = Date.now() + spec.wait.waitMs;
  using wake = new WakeSignal(wakeups, spec.wakeOn, spec.signal);
  // The first read happens before the stream opens, so 403/404 are still answered as JSON.
  let snapshot: StreamSnapshot<T> | undefined = await spec.fetch();
  const sse = writer();
  try {
    let sent = spec.afterSeq;
    for (;;) {
      if (snapshot === undefined || (snapshot.expiresAt !== undefined && Date.now() >= snapshot.expiresAt)) {
        sse.send({ event: 'wait_expired', data: JSON.stringify('Task expired') });
        return;
      }
      const fresh = snapshot.items.filter((item) => item.seq > sent).sort((a, b) => a.seq - b.seq);
      for await (const stored of reader.many(fresh)) {
        if (sse.closed) return;
        // The SSE data is the stored event as the log holds it; one that cannot be spliced safely is skipped.
        if (isSpliceable(stored.data)) sse.send({ id: stored.seq, event: spec.eventName, data: eventLineText(stored) });
        sent = stored.seq;
        await sse.drained();
      }
      if (fresh.length > 0) sent = Math.max(sent, fresh[fresh.length - 1].seq);
      if (spec.wait.waitMs === 0) return;
      if (spec.wait.waitCount !== undefined && spec.count(snapshot.items) >= spec.wait.waitCount) return;
      if (Date.now() >= deadline) {
        sse.send({ event: 'wait_expired', data: 'null' });
        return;
      }
      // Woken or not, re-read at the end: the deadline or the task's expiry is decided by the next round.
      await wake.wait(Math.min(deadline, snapshot.expiresAt ?? Infinity));
      if (wake.aborted || sse.closed) return;
      snapshot = await spec.fetch(wake.minSeq).catch((err) => {
        if (err instanceof NotFound) return undefined;
        throw err;
      });
    }
  } finally {
    sse.end();
  }
}
