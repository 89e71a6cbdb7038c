import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { beamlineVersion } from '@beamline/http';
import { usedRatio } from '@beamline/domain';
import { NatsProbe } from '@beamline/nats';
import { CertificateRegistry } from '../pki/certificate-registry';
import { StorageMonitor } from '../storage/storage-monitor';
import { StoreClient } from '../tasks/store-client';
import { Wakeups } from '../tasks/wakeups';

/**
 * Operator health, no auth. `unhealthy` (503) when NATS or every broker-store replica is unreachable;
 * `degraded` (200: the broker serves, but something needs an operator) with one sentence per reason, e.g. a
 * store nearing or at its byte limit; otherwise `healthy`.
 */
/** A store replica this slow to answer a ping is too busy to answer queries in time. */
const SLOW_STORE_MS = 500;

@Controller('v1/health')
export class HealthController {
  constructor(
    private readonly nats: NatsProbe,
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
    private readonly storage: StorageMonitor,
    private readonly certificates: CertificateRegistry,
  ) {}

  @Get()
  async health(@Res() res: Response): Promise<void> {
    const natsOk = await this.nats.reachable();
    const pingStarted = Date.now();
    const storeSeq = natsOk ? await this.store.ping() : undefined;
    const pingMs = Date.now() - pingStarted;
    const healthy = natsOk && storeSeq !== undefined;
    const reasons = [...this.storage.reasons()];
    // Reads must never look healthy while they fail: a store that timed out lately, or answers slowly now, is a reason.
    const storeFailure = this.store.recentFailure();
    if (storeFailure) reasons.push(`broker-store: queries failed within the last 30 s (${storeFailure})`);
    if (storeSeq !== undefined && pingMs > SLOW_STORE_MS) reasons.push(`broker-store: answered a ping only after ${pingMs} ms`);
    const pki = this.certificates.heldEvents;
    if (pki.dropped > 0) reasons.push(`pki: ${pki.dropped} directory events signed by unknown intermediates were dropped (buffer full)`);
    res.status(healthy ? 200 : 503).json({
      summary: !healthy ? 'unhealthy' : reasons.length > 0 ? 'degraded' : 'healthy',
      version: beamlineVersion(),
      reasons,
      nats: { status: natsOk ? 'ok' : 'unavailable' },
      store: storeSeq === undefined ? { status: 'unavailable' } : { status: 'ok', applied_seq: storeSeq },
      storage: this.storageReport(),
      waiting: this.wakeups.waiting,
      pki: { held_events: pki.held, dropped_events: pki.dropped },
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
