/**
 * Per-proxy quotas at the broker: how much of the live log one enrolled proxy may hold, and how fast it may
 * write. Pure rules; broker-api brings the clock and the store's usage figures.
 */
import { formatBytes } from './byte-size';
import { QuotaExceeded } from './errors';

/** What one sender (an app or proxy id) or one proxy's apps hold in the live log. */
export interface SenderUsage {
  /** Live tasks it created. */
  tasks: number;
  /** Bytes of those tasks' TaskCreated events and of every ResultPut it wrote (replaced ones too, until expiry). */
  bytes: number;
}

export interface QuotaLimits {
  liveTasks: number;
  liveBytes: number;
}

/** A write about to be appended: a new task (counts towards live tasks) or a result, and its size. */
export interface PendingWrite {
  newTask: boolean;
  bytes: number;
}

/** Seconds after which a refused new task is worth trying again: live tasks free up only as they expire. */
const LIVE_TASKS_RETRY_AFTER_S = 10;

/** The quota `write` would pass, given what `proxyId` holds now; undefined when it fits. */
export function quotaRefusal(proxyId: string, usage: SenderUsage, write: PendingWrite, limits: QuotaLimits): QuotaExceeded | undefined {
  if (write.newTask && usage.tasks + 1 > limits.liveTasks) {
    return new QuotaExceeded(
      'live_tasks',
      `live_tasks: proxy ${proxyId} has ${usage.tasks} live tasks, its quota is ${limits.liveTasks} (QUOTA_LIVE_TASKS); retry when some have expired`,
      LIVE_TASKS_RETRY_AFTER_S,
    );
  }
  if (usage.bytes + write.bytes > limits.liveBytes) {
    return new QuotaExceeded(
      'live_bytes',
      `live_bytes: proxy ${proxyId} holds ${formatBytes(usage.bytes)} in live tasks and results; ${formatBytes(write.bytes)} more would pass ` +
        `its quota of ${formatBytes(limits.liveBytes)} (QUOTA_LIVE_BYTES)`,
    );
  }
  return undefined;
}

/** The refusal of a write over the rate quota; `waitMs` until the next write is admitted. */
export function writeRateRefusal(proxyId: string, ratePerSecond: number, waitMs: number): QuotaExceeded {
  return new QuotaExceeded(
    'write_rate',
    `write_rate: proxy ${proxyId} writes faster than ${ratePerSecond} per second (QUOTA_WRITE_RATE)`,
    Math.max(1, Math.ceil(waitMs / 1000)),
  );
}

/** True when `sender` (an app or proxy id) is `proxyId` or one of its apps. */
export function belongsToProxy(sender: string, proxyId: string): boolean {
  return sender === proxyId || (sender.length > proxyId.length && sender.endsWith(proxyId) && sender[sender.length - proxyId.length - 1] === '.');
}

/**
 * A token bucket: `ratePerSecond` on average, bursts of up to `burst`. `take` spends one token and answers 0,
 * or answers how many ms until one is there (spending nothing).
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.at = now;
  }

  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  /** True when the bucket is full at `now`: its owner has been idle, and the bucket may be forgotten. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.at);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.at = now;
  }
}
