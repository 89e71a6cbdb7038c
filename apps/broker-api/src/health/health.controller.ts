import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { NatsConnection } from '@nats-io/nats-core';
import { usedRatio } from '@beamline/domain';
import { NATS_CONNECTION } from '@beamline/nats';
import { StorageMonitor } from '../storage/storage-monitor';
import { StoreClient } from '../tasks/store-client';
import { Wakeups } from '../tasks/wakeups';

/**
 * Operator health, no auth. `unhealthy` (503) when NATS or every broker-store replica is unreachable;
 * `degraded` (200: the broker serves, but something needs an operator) with one sentence per reason, e.g. a
 * store nearing or at its byte limit; otherwise `healthy`.
 */
@Controller('v1/health')
export class HealthController {
  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
    private readonly storage: StorageMonitor,
  ) {}

  @Get()
  async health(@Res() res: Response): Promise<void> {
    const natsOk = !this.nc.isClosed() && (await this.nc.rtt().then(() => true, () => false));
    const storeSeq = natsOk ? await this.store.ping() : undefined;
    const healthy = natsOk && storeSeq !== undefined;
    const reasons = [...this.storage.reasons()];
    res.status(healthy ? 200 : 503).json({
      summary: !healthy ? 'unhealthy' : reasons.length > 0 ? 'degraded' : 'healthy',
      reasons,
      nats: { status: natsOk ? 'ok' : 'unavailable' },
      store: storeSeq === undefined ? { status: 'unavailable' } : { status: 'ok', applied_seq: storeSeq },
      storage: this.storageReport(),
      waiting: this.wakeups.waiting,
    });
  }

  /** Every store's usage, so a dashboard can chart it before it becomes a reason. */
  private storageReport(): Record<string, { used_bytes: number; max_bytes: number; used_percent: number | null }> {
    const report: Record<string, { used_bytes: number; max_bytes: number; used_percent: number | null }> = {};
    for (const u of this.storage.usages()) {
      const ratio = usedRatio(u);
      report[u.store] = { used_bytes: u.usedBytes, max_bytes: u.maxBytes, used_percent: ratio === undefined ? null : Math.floor(ratio * 1000) / 10 };
    }
    return report;
  }
}
