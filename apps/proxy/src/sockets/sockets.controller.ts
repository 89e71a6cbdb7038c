/**
 * The app-facing socket routes reached without `Upgrade` (the upgraded ones are SocketUpgrades, on the HTTP
 * server's upgrade path): the listing of socket requests, and 426 for a connect without `Upgrade: tcp`.
 */
import { Inject, Controller, Get, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { DEFAULT_MAX_WAIT_MS, parseWaitParams, UpgradeRequired } from '@beamline/domain';
import { abortOnClose, queryParam } from '@beamline/http';
import { ApiKeyGuard, callerOf, type AppRequest } from '../auth/api-key.guard';
import { AppWaitingCap } from '../tasks/waiting-apps';
import { ApiAppRoutes } from '../openapi/responses';
import { ApiConnectSocket, ApiListSockets, ApiOpenSocket } from '../openapi/route-docs';
import { SocketMessages } from './socket-messages';
import { PROXY_CONFIG, type ProxyConfig } from '../config';

@Controller('v1/sockets')
@ApiAppRoutes('sockets')
@UseGuards(ApiKeyGuard)
@UseInterceptors(AppWaitingCap)
export class SocketsController {
  private readonly beamWait: boolean;

  constructor(
    private readonly sockets: SocketMessages,
    @Inject(PROXY_CONFIG) config: ProxyConfig,
  ) {
    this.beamWait = config.socketListWait === 'beam';
  }

  @Get()
  @ApiListSockets()
  async list(@Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const raw = { wait_count: queryParam(req, 'wait_count'), wait_time: queryParam(req, 'wait_time') };
    // docs/api.md: no parameters answer at once. SOCKET_LIST_WAIT=beam restores Samply.Beam's behaviour (wait
    // for at least one request), which its Python example relies on to not race the initiator.
    if (raw.wait_count === undefined && raw.wait_time === undefined && this.beamWait) raw.wait_count = '1';
    const wait = parseWaitParams(raw, DEFAULT_MAX_WAIT_MS);
    const listing = await this.sockets.list(callerOf(req), raw, wait, abortOnClose(res));
    res.status(listing.complete ? 200 : 206).json(listing.items);
  }

  @Post(':app_id')
  @ApiOpenSocket()
  initiateWithoutUpgrade(): never {
    throw new UpgradeRequired('Upgrade: tcp required to open a socket');
  }

  @Get(':socket_id')
  @ApiConnectSocket()
  connectWithoutUpgrade(): never {
    throw new UpgradeRequired('Upgrade: tcp required to connect to a socket');
  }
}
