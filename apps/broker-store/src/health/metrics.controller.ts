import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { scrapedGauge, sendMetrics } from '@beamline/http';
import { NatsProbe, StoreQueries } from '@beamline/nats';
import { Leadership } from '../leadership';
import { ProjectionService } from '../projection.service';

/**
 * Prometheus metrics on broker-store's own listener (`METRICS_ADDR`, loopback by default), no auth. The
 * expiry counters are kept by the sweeper (store-metrics.ts); these gauges are read at each scrape.
 */
@Controller('metrics')
export class MetricsController {
  constructor(nats: NatsProbe, queries: StoreQueries, projection: ProjectionService, leadership: Leadership) {
    scrapedGauge('beamline_nats_connected', '1 while the NATS connection is open and answers a round trip, else 0', async () =>
      (await nats.reachable()) ? 1 : 0,
    );
    scrapedGauge('beamline_projection_applied_seq', 'The last BEAM_EVENTS sequence this replica applied to its views', () => projection.lastSeq);
    scrapedGauge(
      'beamline_projection_lag',
      "BEAM_EVENTS' last sequence minus the last one this replica applied (unset while the stream cannot be read)",
      async () => Math.max(0, (await queries.logEnd()) - projection.lastSeq),
    );
    scrapedGauge('beamline_expiry_leader', '1 while this replica holds the expiry lease (sweeper and audit copier), else 0', () =>
      leadership.isLeader ? 1 : 0,
    );
  }

  @Get()
  async metrics(@Res() res: Response): Promise<void> {
    await sendMetrics(res);
  }
}
