import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { beamlineVersion } from '@beamline/http';
import { NatsProbe } from '@beamline/nats';
import { Leadership } from '../leadership';
import { ProjectionService } from '../projection.service';

/**
 * broker-store's health, no auth, on its own listener (`METRICS_ADDR`): 200 while NATS answers, 503 when it
 * does not. The listener opens once the replay of the log at start-up is done, so an answer at all means the
 * views are live.
 */
@Controller('v1/health')
export class HealthController {
  constructor(
    private readonly nats: NatsProbe,
    private readonly projection: ProjectionService,
    private readonly leadership: Leadership,
  ) {}

  @Get()
  async health(@Res() res: Response): Promise<void> {
    const natsOk = await this.nats.reachable();
    res.status(natsOk ? 200 : 503).json({
      summary: natsOk ? 'healthy' : 'unhealthy',
      version: beamlineVersion(),
      nats: { status: natsOk ? 'ok' : 'unavailable' },
      projection: { applied_seq: this.projection.lastSeq },
      leader: this.leadership.isLeader,
    });
  }
}
