/**
 * `GET /v1/control`: a proxy's long-lived control connection. Authenticated like every proxy request (the
 * proxy id is its certificate's CN); answered `200 text/event-stream` and held open with a keep-alive
 * comment every 10 s. While it is open, the proxy is present.
 */
import { Controller, Get, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { ControlConnections } from './control-connections';

@Controller('v1/control')
@UseGuards(ProxyAuthGuard)
export class ControlController {
  constructor(private readonly connections: ControlConnections) {}

  @Get()
  async control(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    await this.connections.hold((req.proxy as AuthenticatedProxy).proxyId, res);
  }
}
