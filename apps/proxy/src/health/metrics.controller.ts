import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { scrapedGauge, sendMetrics } from '@beamline/http';
import { ControlConnection } from '../control/control-connection';

/**
 * Prometheus metrics, no auth, like `/v1/health`: the proxy listens inside the site, and the figures name no
 * app, key or message (README, "Metrics"). An operator's endpoint, not part of the app API's OpenAPI document.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(control: ControlConnection) {
    scrapedGauge('beamline_broker_control_connected', "1 while the proxy's control connection to the broker is open, else 0", () =>
      control.state.connected ? 1 : 0,
    );
  }

  @Get()
  async metrics(@Res() res: Response): Promise<void> {
    await sendMetrics(res);
  }
}
