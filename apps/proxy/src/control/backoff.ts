/** Reconnect delays of the control connection: exponential from 250 ms, capped at 10 s, with jitter. */
export const BACKOFF_INITIAL_MS = 250;
export const BACKOFF_MAX_MS = 10_000;

/** The next backoff delay after `previous` (undefined: the first retry, or after a reset). */
export function nextBackoff(previous: number | undefined): number {
  return previous === undefined ? BACKOFF_INITIAL_MS : Math.min(previous * 2, BACKOFF_MAX_MS);
}

/** "Equal jitter": somewhere in [delay/2, delay], so proxies that lost one broker do not return in lockstep. */
export function withJitter(delay: number, random: () => number = Math.random): number {
  return Math.round(delay / 2 + random() * (delay / 2));
}
