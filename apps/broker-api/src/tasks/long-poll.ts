/**
 * The long-poll loop shared by every waiting read: listen for wake-ups first, then fetch, so no write falls
 * into the gap; re-fetch with `minSeq` on each wake-up (read-your-writes on any store replica) until the
 * condition holds, the deadline passes, or the client goes away. Listeners are removed on every exit path.
 */
import { Wakeups } from './wakeups';

export interface LongPoll<T> {
  wakeOn: string[];
  fetch: (minSeq?: number) => Promise<T>;
  satisfied: (value: T) => boolean;
  waitMs: number;
  /** An earlier end than waitMs (e.g. the task's expiry), computed from each fetched value. */
  endsAt?: (value: T) => number | undefined;
  signal: AbortSignal;
}

export async function longPoll<T>(wakeups: Wakeups, poll: LongPoll<T>): Promise<{ value: T; satisfied: boolean }> {
  if (poll.waitMs <= 0) {
    const value = await poll.fetch();
    return { value, satisfied: poll.satisfied(value) };
  }
  const deadline = Date.now() + poll.waitMs;
  let minSeq = 0;
  let pendingWake = false;
  let wake: (() => void) | undefined;
  const stopListening = wakeups.listen(poll.wakeOn, (seq) => {
    minSeq = Math.max(minSeq, seq);
    pendingWake = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  poll.signal.addEventListener('abort', onAbort);
  try {
    let value = await poll.fetch();
    while (!poll.satisfied(value) && !poll.signal.aborted) {
      const end = Math.min(deadline, poll.endsAt?.(value) ?? Infinity);
      const remaining = end - Date.now();
      if (remaining <= 0) break;
      if (!pendingWake) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, remaining);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      if (poll.signal.aborted) break;
      if (!pendingWake && Date.now() >= end) break;
      pendingWake = false;
      value = await poll.fetch(minSeq || undefined);
    }
    return { value, satisfied: poll.satisfied(value) };
  } finally {
    stopListening();
    poll.signal.removeEventListener('abort', onAbort);
  }
}
