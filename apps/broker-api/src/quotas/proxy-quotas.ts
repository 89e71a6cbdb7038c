/**
 * Holds every proxy to its quotas before a write reaches the log (README: Quotas): a write rate (a token
 * bucket per proxy at this replica), and the live tasks and bytes of its apps as broker-store counts them.
 *
 * Usage figures are at most USAGE_MAX_AGE_MS old, plus what this replica admitted since. With several
 * replicas a proxy can pass a quota by what the others admit within that second, which the write rate bounds.
 * When no store replica answers in time, writes are admitted: appending needs only the log, and an outage of
 * the views must not stop every write. A quota protects the broker; it is not where truth is kept.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { quotaRefusal, TokenBucket, writeRateRefusal, type PendingWrite, type SenderUsage } from '@beamline/domain';
import { StoreQueries } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

const USAGE_MAX_AGE_MS = 1_000;
const USAGE_QUERY_TIMEOUT_MS = 1_000;
/** At most one warning per interval while the store cannot tell usage. */
const WARN_INTERVAL_MS = 30_000;

interface KnownUsage {
  usage: SenderUsage;
  at: number;
  /** The last sequence this replica appended for the proxy: the store's figures must include it. */
  appendedSeq: number;
  refreshing?: Promise<void>;
}

@Injectable()
export class ProxyQuotas {
  private readonly logger = new Logger('Quotas');
  /** One bucket per proxy that wrote; bounded by the enrolled proxies (only authenticated proxies get here). */
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly usage = new Map<string, KnownUsage>();
  private lastWarning = 0;

  private readonly limits: BrokerConfig['quotas'];

  constructor(
    @Inject(StoreQueries) private readonly queries: StoreQueries,
    @Inject(BROKER_CONFIG) config: BrokerConfig,
  ) {
    this.limits = config.quotas;
  }

  /** Spends one write of `proxyId`'s rate; throws QuotaExceeded `write_rate` when none is left. */
  admitWrite(proxyId: string, now = Date.now()): void {
    const rate = this.limits.writeRatePerSecond;
    let bucket = this.buckets.get(proxyId);
    if (!bucket) this.buckets.set(proxyId, (bucket = new TokenBucket(rate, 2 * rate, now)));
    const waitMs = bucket.take(now);
    if (waitMs > 0) throw writeRateRefusal(proxyId, rate, waitMs);
  }

  /**
   * Throws QuotaExceeded (`live_tasks` or `live_bytes`) when `write` would take `proxyId` past a quota;
   * otherwise counts it towards the proxy's usage until the store's next figures include it.
   */
  async reserve(proxyId: string, write: PendingWrite): Promise<void> {
    const usage = await this.usageOf(proxyId);
    const refusal = quotaRefusal(proxyId, usage, write, this.limits);
    if (refusal) throw refusal;
    if (write.newTask) usage.tasks += 1;
    usage.bytes += write.bytes;
  }

  /** A write reserved for `proxyId` is in the log at `seq`. */
  appended(proxyId: string, seq: number): void {
    const known = this.usage.get(proxyId);
    if (known) known.appendedSeq = Math.max(known.appendedSeq, seq);
  }

  private async usageOf(proxyId: string): Promise<SenderUsage> {
    let known = this.usage.get(proxyId);
    if (!known) this.usage.set(proxyId, (known = { usage: { tasks: 0, bytes: 0 }, at: 0, appendedSeq: 0 }));
    if (Date.now() - known.at >= USAGE_MAX_AGE_MS) {
      known.refreshing ??= this.refresh(proxyId, known).finally(() => (known.refreshing = undefined));
      await known.refreshing;
    }
    return known.usage;
  }

  private async refresh(proxyId: string, known: KnownUsage): Promise<void> {
    try {
      // Figures that miss what this replica admitted would let it admit that much again.
      const answer = await this.queries.ask({ q: 'usage', asApp: proxyId, minSeq: known.appendedSeq || undefined }, USAGE_QUERY_TIMEOUT_MS);
      if ('error' in answer) throw new Error(answer.message);
      known.usage = { tasks: answer.tasks, bytes: answer.bytes };
    } catch (err) {
      // Keep the last figures (and what was admitted since) and ask again in a second.
      if (Date.now() - this.lastWarning > WARN_INTERVAL_MS) {
        this.lastWarning = Date.now();
        this.logger.warn(`store did not tell ${proxyId}'s usage (${(err as Error).message}); writes are admitted on the last known figures`);
      }
    }
    known.at = Date.now();
  }
}
