/**
 * The long-poll loop shared by every waiting read: re-fetch (with minSeq) on each wake-up until the
 * condition holds, the deadline passes, or the client goes away. Listeners are removed on every exit path.
 */
import { WakeSignal } from './wake-signal';
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
  using wake = new WakeSignal(wakeups, poll.wakeOn, poll.signal);
  let value = await poll.fetch();
  while (!poll.satisfied(value) && !wake.aborted) {
    const end = Math.min(deadline, poll.endsAt?.(value) ?? Infinity);
    if (Date.now() >= end || !(await wake.wait(end))) break;
    value = await poll.fetch(wake.minSeq);
  }
  return { value, satisfied: poll.satisfied(value) };
}
