/**
 * Which failures are worth another attempt, and how long to wait before it. Only failures that say
 * nothing about the request itself are retried: the proxy was unreachable or the broker behind it was
 * (502–504), or a write lost a race it tells us to retry. A 4xx says the request was wrong or not
 * allowed, and sending it again cannot change that.
 */
import { BeamAbortError, BeamError, BeamHttpError, BeamNetworkError, throwIfAborted } from './errors';

/** How a client retries. */
export interface RetryPolicy {
  /** Attempts after the first. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** In [0, 1). */
  random: () => number;
}

/** System error codes of failures that a later attempt may not meet: the peer or the path to it was down. */
const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** The proxy's answers when the broker behind it was unreachable, not ready or too slow (it already retried for 30 s). */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

/** True when an error is worth another attempt. */
export function isTransient(err: unknown): boolean {
  if (err instanceof BeamAbortError) return false;
  if (err instanceof BeamHttpError) {
    // docs/api.md: 409 write_contention means concurrent writes on one task did not settle; "retry".
    return TRANSIENT_STATUSES.has(err.status) || (err.status === 409 && err.code === 'write_contention');
  }
  if (err instanceof BeamNetworkError) return TRANSIENT_NETWORK_CODES.has(err.code);
  return false;
}

/**
 * The delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter" (half
 * fixed, half random) so that many clients cut off at once do not come back at once, while every delay
 * still grows. A `Retry-After` the proxy sent is a lower bound.
 */
export function backoffDelay(attempt: number, policy: RetryPolicy, err?: unknown): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(attempt, 30));
  const jittered = ceiling / 2 + (policy.random() * ceiling) / 2;
  const floor = err instanceof BeamError && err.retryAfterMs !== undefined ? err.retryAfterMs : 0;
  return Math.round(Math.max(jittered, floor));
}

/** Resolves after `ms`, or rejects with a {@link BeamAbortError} as soon as the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new BeamAbortError(signal.reason));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new BeamAbortError(signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the retries are used up. `attempt` gets its
 * 0-based number, so a caller can tell a first attempt from a retry (see postTask's 409 handling);
 * `retryable` narrows which failures are retried (default: {@link isTransient}).
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  signal?: AbortSignal,
  retryable: (err: unknown) => boolean = isTransient,
): Promise<T> {
  for (let n = 0; ; n++) {
    throwIfAborted(signal);
    try {
      return await attempt(n);
    } catch (err) {
      if (signal?.aborted) throw new BeamAbortError(signal.reason);
      if (n >= policy.retries || !retryable(err)) throw err;
      await sleep(backoffDelay(n, policy, err), signal);
    }
  }
}
