/**
 * Prometheus metrics of a broker-api replica at `/metrics`, by default behind the monitoring API's credentials
 * (Basic, empty user, `MONITORING_API_KEY`; 501 without one), like `/v1/health/proxies`: broker-api's port
 * faces every proxy on the internet. Prometheus sends them with `basic_auth` (README, "Metrics").
 * `METRICS_AUTH=none` opens them, for a port only a private network reaches (and the demo).
 */
import { Inject, Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { scrapedCounter, scrapedGauge, sendMetrics } from '@beamline/http';
import { NatsProbe } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { SocketRelay } from '../sockets/socket-relay';
import { authoriseMonitoring } from './monitoring-auth';

@Controller('metrics')
export class MetricsController {
  private readonly apiKey: string | undefined;
  private readonly open: boolean;

  constructor(nats: NatsProbe, relay: SocketRelay, @Inject(BROKER_CONFIG) config: BrokerConfig) {
    this.apiKey = config.monitoringApiKey;
    this.open = config.metricsOpen;
    scrapedGauge('beamline_nats_connected', '1 while the NATS connection is open and answers a round trip, else 0', async () =>
      (await nats.reachable()) ? 1 : 0,
    );
    scrapedGauge('beamline_socket_relays', 'Direct-socket ends this replica relays or pairs right now', () => relay.stats().relays);
    scrapedGauge('beamline_socket_relays_waiting', 'Direct-socket ends waiting for their peer to connect', () => relay.stats().waiting);
    scrapedCounter(
      'beamline_socket_relay_bytes_total',
      'Bytes this replica relayed from proxies to their peers over direct sockets',
      () => relay.stats().bytes,
    );
    scrapedCounter(
      'beamline_socket_retransmitted_bytes_total',
      'Bytes of direct-socket streams sent again after a loss on the NATS link between replicas',
      () => relay.stats().retransmitted_bytes,
    );
  }

  @Get()
  async metrics(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.open && !authoriseMonitoring(this.apiKey, req, res)) return;
    await sendMetrics(res);
  }
}
