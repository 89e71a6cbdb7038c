/** Proxy-facing task routes. Every request is authenticated by ProxyAuthGuard; `beam_app` names the acting app. */
import { Controller, Get, Param, Post, Put, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { canSignFor, Forbidden, InvalidInput, parseBeamId, parseTaskListQuery, parseUuid, parseWaitParams } from '@beamline/domain';
import { abortOnClose, lastEventId, parseJsonBody, queryParam, SseWriter, wantsEventStream } from '@beamline/http';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { brokerConfig } from '../config';
import { EventAnswers } from './event-answers';
import { TaskCommands } from './task-commands.service';
import { TaskQueries } from './task-queries.service';
import { ProxyWaitingCap } from './waiting-proxies';

@Controller('v1/tasks')
@UseGuards(ProxyAuthGuard)
@UseInterceptors(ProxyWaitingCap)
export class TasksController {
  private readonly config = brokerConfig();

  constructor(
    private readonly commands: TaskCommands,
    private readonly queries: TaskQueries,
    private readonly answers: EventAnswers,
  ) {}

  @Post()
  async create(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const { taskId, seq } = await this.commands.createTask(proxyOf(req), messageOf(req));
    res.status(201).setHeader('Location', `/v1/tasks/${taskId}`).setHeader('Beam-Seq', String(seq)).end();
  }

  @Get()
  async list(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const asApp = actingApp(req);
    const query = parseTaskListQuery({ from: queryParam(req, 'from'), to: queryParam(req, 'to'), filter: queryParam(req, 'filter') }, asApp);
    const wait = parseWaitParams({ wait_count: queryParam(req, 'wait_count'), wait_time: queryParam(req, 'wait_time') }, this.config.maxWaitMs);
    if (wantsEventStream(req)) {
      return this.queries.streamTasks(
        asApp,
        query,
        wait,
        lastEventId(req),
        () => new SseWriter(res, this.config.sseKeepAliveMs),
        abortOnClose(res),
        callerSeq(req),
      );
    }
    const listing = await this.queries.listTasks(asApp, query, wait, abortOnClose(res), callerSeq(req));
    await this.answers.list(res, listing.complete ? 200 : 206, listing.items);
  }

  @Get(':id')
  async getOne(@Param('id') id: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const asApp = actingApp(req);
    const wait = parseWaitParams({ wait_count: queryParam(req, 'wait_count'), wait_time: queryParam(req, 'wait_time') }, this.config.maxWaitMs);
    if (wait.waitCount !== undefined && wait.waitCount !== 1) throw new InvalidInput('wait_count: a single task can only be waited for with wait_count=1');
    const taskId = parseUuid(id, 'task id');
    const task = await this.queries.getTask(asApp, taskId, wait, abortOnClose(res), callerSeq(req));
    await this.answers.one(res, task, `task ${taskId} not found`);
  }

  @Put(':id/results/:app')
  async putResult(@Param('id') id: string, @Param('app') app: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const { created, seq } = await this.commands.putResult(proxyOf(req), id, app, messageOf(req));
    res
      .status(created ? 201 : 204)
      .setHeader('Beam-Seq', String(seq))
      .end();
  }

  @Get(':id/results')
  async results(@Param('id') id: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const asApp = actingApp(req);
    const wait = parseWaitParams({ wait_count: queryParam(req, 'wait_count'), wait_time: queryParam(req, 'wait_time') }, this.config.maxWaitMs);
    const taskId = parseUuid(id, 'task id');
    if (wantsEventStream(req)) {
      return this.queries.streamResults(
        asApp,
        taskId,
        wait,
        lastEventId(req),
        () => new SseWriter(res, this.config.sseKeepAliveMs),
        abortOnClose(res),
        callerSeq(req),
      );
    }
    const listing = await this.queries.listResults(asApp, taskId, wait, abortOnClose(res), callerSeq(req));
    await this.answers.list(res, listing.complete ? 200 : 206, listing.items);
  }
}

/** `min_seq`: the newest Beam-Seq the proxy has seen, so its reads include its own writes on any replica. */
function callerSeq(req: ProxyRequest): number {
  const raw = queryParam(req, 'min_seq');
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n)) throw new InvalidInput('min_seq: expected a non-negative integer');
  return n;
}

function proxyOf(req: ProxyRequest): AuthenticatedProxy {
  return req.proxy as AuthenticatedProxy;
}

function messageOf(req: ProxyRequest): unknown {
  const body = parseJsonBody(req);
  return typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
}

/** The app a proxy acts for on a read; the proxy must be able to sign for it. */
function actingApp(req: ProxyRequest): string {
  const app = parseBeamId(queryParam(req, 'beam_app'), 'beam_app');
  if (!canSignFor(proxyOf(req).proxyId, app)) throw new Forbidden(`beam_app: ${proxyOf(req).proxyId} cannot act for ${app}`);
  return app;
}
