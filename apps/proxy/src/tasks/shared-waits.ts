/**
 * Identical waiting reads of one app share one wait at the broker: a thousand todo long-polls of one app are
 * one long-poll upstream, answered once, read once and handed to each (the opened messages are cached by
 * digest, so each costs a lookup, not a signature check). Without this, every waiting app request held its own
 * connection and its own wait at the broker, and one task woke a thousand answers to write, send and parse.
 *
 * Each app request keeps its own semantics: it joins a shared wait that asks for at least its `min_seq`, never
 * waits past its own deadline (then it reads once without waiting: 206 with what exists), and waits again for
 * the time it has left when a shared wait that started earlier runs out before its deadline. The upstream wait
 * is cancelled only when every request that joined it has gone.
 */
export interface SharedAnswer<L> {
  /** 200: the wait was satisfied; 206: it ended first. */
  status: number;
  lines: L[];
  /** Set when the answer was too big to hold for everyone: each request reads it itself, without waiting. */
  tooBig?: true;
}

/** Reads the broker waiting up to `waitMs` (0: not at all), with `signal` ending the read. */
export type WaitingRead<L> = (waitMs: number, signal: AbortSignal) => Promise<SharedAnswer<L>>;

interface SharedWait<L> {
  minSeq: number;
  /** When its wait time runs out (ms since the epoch). */
  endsAt: number;
  answer: Promise<SharedAnswer<L>>;
  joined: number;
  upstream: AbortController;
}

/** An answer this close to a request's own deadline is its answer: waiting again would be a few ms. */
const DEADLINE_SLACK_MS = 20;

export class SharedWaits<L> {
  private readonly inFlight = new Map<string, SharedWait<L>>();

  /** Waits in flight upstream (health, tests). */
  get upstreamWaits(): number {
    return this.inFlight.size;
  }

  /**
   * The answer to a read of `key` (the app and its query, without `wait_time` and `min_seq`) for at least
   * `minSeq`, waiting up to `waitMs`; `read` makes the broker request.
   */
  async read(key: string, minSeq: number, waitMs: number, signal: AbortSignal, read: WaitingRead<L>): Promise<SharedAnswer<L>> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return read(0, signal);
      const wait = this.join(key, minSeq, left, read);
      let answer: SharedAnswer<L> | 'deadline';
      try {
        answer = await untilDeadline(wait.answer, deadline, signal);
      } finally {
        this.leave(key, wait);
      }
      if (answer === 'deadline') return read(0, signal);
      // Waits again only when the shared wait's own (shorter) time ran out; a 206 the broker gave early (its
      // shutdown) is the answer, as it would have been without sharing.
      const ranOut = Date.now() >= wait.endsAt - DEADLINE_SLACK_MS && wait.endsAt < deadline - DEADLINE_SLACK_MS;
      if (answer.status !== 206 || !ranOut) return answer;
    }
  }

  private join(key: string, minSeq: number, waitMs: number, read: WaitingRead<L>): SharedWait<L> {
    const existing = this.inFlight.get(key);
    if (existing && existing.minSeq >= minSeq) {
      existing.joined++;
      return existing;
    }
    const upstream = new AbortController();
    const wait: SharedWait<L> = { minSeq, endsAt: Date.now() + waitMs, answer: read(waitMs, upstream.signal), joined: 1, upstream };
    // Answered or failed: later requests start a new wait (those that joined this one have its answer).
    const forget = (): void => {
      if (this.inFlight.get(key) === wait) this.inFlight.delete(key);
    };
    wait.answer.then(forget, forget);
    this.inFlight.set(key, wait);
    return wait;
  }

  private leave(key: string, wait: SharedWait<L>): void {
    if (--wait.joined > 0) return;
    if (this.inFlight.get(key) === wait) this.inFlight.delete(key);
    wait.upstream.abort();
  }
}

/** `answer`, or 'deadline' once `deadline` passes first; rejects when `signal` aborts first. */
function untilDeadline<T>(answer: Promise<T>, deadline: number, signal: AbortSignal): Promise<T | 'deadline'> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T | 'deadline'>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve('deadline');
    }, deadline - Date.now());
    signal.addEventListener('abort', onAbort, { once: true });
    answer.then(
      (value) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        reject(err as Error);
      },
    );
  });
}
