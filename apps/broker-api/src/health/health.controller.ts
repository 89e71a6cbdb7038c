import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { NatsConnection } from '@nats-io/nats-core';
import { NATS_CONNECTION } from '@beamline/nats';
import { StoreClient } from '../tasks/store-client';
import { Wakeups } from '../tasks/wakeups';

/** Operator health: NATS connectivity and whether a broker-store replica answers. No auth. */
@Controller('v1/health')
export class HealthController {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection, private readonly store: StoreClient, private readonly wakeups: Wakeups) {}

  @Get()
  async health(@Res() res: Response): Promise<void> {
    const natsOk = !this.nc.isClosed() && (await this.nc.rtt().then(() => true, () => false));
    const storeSeq = natsOk ? await this.store.ping() : undefined;
    const healthy = natsOk && storeSeq !== undefined;
    res.status(healthy ? 200 : 503).json({
      summary: healthy ? 'healthy' : 'unhealthy',
      nats: { status: natsOk ? 'ok' : 'unavailable' },
      store: storeSeq === undefined ? { status: 'unavailable' } : { status: 'ok', applied_seq: storeSeq },
      waiting: this.wakeups.waiting,
    });
  }
}
