/** Proxy-facing socket routes (the byte relay itself is SocketRelay, on the HTTP server's upgrade path). */
import { Inject, Controller, Get, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { UpgradeRequired } from '@beamline/domain';
import { parseJsonBody } from '@beamline/http';
import { ProxyWaitingCap } from '../tasks/waiting-proxies';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { EventAnswers } from '../tasks/event-answers';
import { readContextOf } from '../tasks/read-context';
import { ListSocketsQuery } from './socket-reads';
import { RequestSocketCommand } from './socket-writes';
import { SocketRelay } from './socket-relay';

@Controller('v1/sockets')
@UseGuards(ProxyAuthGuard)
@UseInterceptors(ProxyWaitingCap)
export class SocketsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly answers: EventAnswers,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  @Post()
  async create(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const body = parseJsonBody(req);
    const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    const { socketId, expiresAt, seq } = await this.commands.execute(new RequestSocketCommand(req.proxy as AuthenticatedProxy, message));
    res.status(201).setHeader('Location', `/v1/sockets/${socketId}`).setHeader('Beam-Seq', String(seq)).json({ id: socketId, expiresAt });
  }

  @Get()
  async list(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const listing = await this.queries.execute(new ListSocketsQuery(readContextOf(req, res, this.config.maxWaitMs)));
    await this.answers.list(res, listing.complete ? 200 : 206, listing.items);
  }

  @Post(':id')
  initiatorWithoutUpgrade(): never {
    throw new UpgradeRequired('Upgrade: tcp required');
  }

  @Get(':id')
  recipientWithoutUpgrade(): never {
    throw new UpgradeRequired('Upgrade: tcp required');
  }
}

/** Relay counters for operators and leak tests (no auth, like /v1/health). */
@Controller('v1/health')
export class SocketHealthController {
  constructor(private readonly relay: SocketRelay) {}

  @Get('sockets')
  sockets(): { relays: number; subscriptions: number; waiting: number } {
    return this.relay.stats();
  }
}
