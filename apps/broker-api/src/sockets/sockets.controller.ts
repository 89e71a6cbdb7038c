/** Proxy-facing socket routes (the byte relay itself is SocketRelay, on the HTTP server's upgrade path). */
import { Controller, Get, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { canSignFor, Forbidden, isWaitSatisfied, parseBeamId, parseWaitParams, UpgradeRequired } from '@beamline/domain';
import { abortOnClose, parseJsonBody, queryParam } from '@beamline/http';
import { subjects, type ExpiringRef } from '@beamline/nats';
import { ProxyWaitingCap } from '../tasks/waiting-proxies';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { brokerConfig } from '../config';
import { EventAnswers } from '../tasks/event-answers';
import { longPoll } from '../tasks/long-poll';
import { StoreClient } from '../tasks/store-client';
import { Wakeups } from '../tasks/wakeups';
import { SocketCommands } from './socket-commands.service';
import { SocketRelay } from './socket-relay';

@Controller('v1/sockets')
@UseGuards(ProxyAuthGuard)
@UseInterceptors(ProxyWaitingCap)
export class SocketsController {
  private readonly config = brokerConfig();

  constructor(
    private readonly commands: SocketCommands,
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
    private readonly answers: EventAnswers,
  ) {}

  @Post()
  async create(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const body = parseJsonBody(req);
    const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    const { socketId, expiresAt, seq } = await this.commands.request(req.proxy as AuthenticatedProxy, message);
    res.status(201).setHeader('Location', `/v1/sockets/${socketId}`).setHeader('Beam-Seq', String(seq)).json({ id: socketId, expiresAt });
  }

  @Get()
  async list(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const asApp = parseBeamId(queryParam(req, 'beam_app'), 'beam_app');
    if (!canSignFor((req.proxy as AuthenticatedProxy).proxyId, asApp)) throw new Forbidden(`beam_app: cannot act for ${asApp}`);
    const wait = parseWaitParams({ wait_count: queryParam(req, 'wait_count'), wait_time: queryParam(req, 'wait_time') }, this.config.maxWaitMs);
    const minSeqParam = Number(queryParam(req, 'min_seq') ?? 0) || 0;
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(asApp)],
      fetch: async (minSeq) => {
        const seq = Math.max(minSeq ?? 0, minSeqParam, this.wakeups.highestSeq);
        return (await this.store.query({ q: 'sockets', asApp, minSeq: seq > 0 ? seq : undefined })).items as ExpiringRef[];
      },
      satisfied: (items) => isWaitSatisfied(items.length, wait),
      waitMs: wait.waitMs,
      signal: abortOnClose(res),
    });
    await this.answers.list(res, satisfied ? 200 : 206, value);
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
