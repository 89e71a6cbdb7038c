/**
 * Start-up work against NATS that a cluster may refuse for a moment: a JetStream API request timing out while a
 * just-created replicated stream elects its leader, no responders while the meta leader is being elected, or
 * "JetStream system temporarily unavailable". Such failures are retried with a log line; anything else (a
 * limit that does not fit, a refused permission) still stops start-up at once.
 */
import { JetStreamApiError } from '@nats-io/jetstream';
import { NoRespondersError, TimeoutError } from '@nats-io/nats-core';

/**
 * A start-up failure the operator must fix (a refused login, a limit that does not fit): its message says
 * everything, so it carries no stack trace, and the logs show one line (Nest logs a failed provider's error
 * with its stack).
 */
export class StartupFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupFailure';
    this.stack = `${this.name}: ${message}`;
  }
}

/** JetStream's "system temporarily unavailable" (JSClusterNotAvailErr). */
const CLUSTER_NOT_AVAILABLE = 10008;

/** Whether `err` (or an error it wraps) is a NATS failure that goes away by itself. */
export function isTransientNatsError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof TimeoutError || e instanceof NoRespondersError) return true;
    if (e instanceof JetStreamApiError && (e.code === CLUSTER_NOT_AVAILABLE || e.status === 503)) return true;
  }
  return false;
}

export interface RetryOptions {
  /** Where the retry lines go (a logger's warn). */
  log: (line: string) => void;
  /** First delay; doubled up to `maxDelayMs`. */
  delayMs?: number;
  maxDelayMs?: number;
  /** Give up (rethrow) after this long; default 5 minutes. */
  budgetMs?: number;
}

/** Runs `work`, retrying transient NATS failures ({@link isTransientNatsError}) with a line each through `log`. */
export async function retryTransient<T>(what: string, work: () => Promise<T>, opts: RetryOptions): Promise<T> {
  const deadline = Date.now() + (opts.budgetMs ?? 5 * 60_000);
  let delay = opts.delayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (!isTransientNatsError(err) || Date.now() + delay > deadline) throw err;
      opts.log(`${what}: ${(err as Error).message} (NATS is busy or electing a leader); retrying in ${delay} ms (attempt ${attempt})`);
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 5_000);
    }
  }
}
