/** Proxy-facing task routes. Every request is authenticated by ProxyAuthGuard; `beam_app` names the acting app. */
import { Inject, Controller, Get, Param, Post, Put, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { InvalidInput, parseTaskListQuery, parseUuid } from '@beamline/domain';
import { lastEventId, parseJsonBody, queryParam, SseWriter, wantsEventStream } from '@beamline/http';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { EventAnswers } from './event-answers';
import { CreateTaskCommand, PutResultCommand } from './commands/task-writes';
import { GetTaskQuery, ListResultsQuery, ListTasksQuery, TaskStreams } from './queries/task-reads';
import { readContextOf, type ReadContext } from './read-context';
import { ProxyWaitingCap } from './waiting-proxies';

@Controller('v1/tasks')
@UseGuards(ProxyAuthGuard)
@UseInterceptors(ProxyWaitingCap)
export class TasksController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly streams: TaskStreams,
    private readonly answers: EventAnswers,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  @Post()
  async create(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const { taskId, seq } = await this.commands.execute(new CreateTaskCommand(proxyOf(req), messageOf(req)));
    res.status(201).setHeader('Location', `/v1/tasks/${taskId}`).setHeader('Beam-Seq', String(seq)).end();
  }

  @Get()
  async list(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const read = this.readOf(req, res);
    const query = parseTaskListQuery({ from: queryParam(req, 'from'), to: queryParam(req, 'to'), filter: queryParam(req, 'filter') }, read.asApp);
    if (wantsEventStream(req)) return this.streams.streamTasks(read, query, lastEventId(req), () => new SseWriter(res, this.config.sseKeepAliveMs));
    const listing = await this.queries.execute(new ListTasksQuery(read, query));
    await this.answers.list(res, listing.complete ? 200 : 206, listing.items);
  }

  @Get(':id')
  async getOne(@Param('id') id: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const read = this.readOf(req, res);
    if (read.wait.waitCount !== undefined && read.wait.waitCount !== 1)
      throw new InvalidInput('wait_count: a single task can only be waited for with wait_count=1');
    const taskId = parseUuid(id, 'task id');
    const task = await this.queries.execute(new GetTaskQuery(read, taskId));
    await this.answers.one(res, task, `task ${taskId} not found`);
  }

  @Put(':id/results/:app')
  async putResult(@Param('id') id: string, @Param('app') app: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const { created, seq } = await this.commands.execute(new PutResultCommand(proxyOf(req), id, app, messageOf(req)));
    res
      .status(created ? 201 : 204)
      .setHeader('Beam-Seq', String(seq))
      .end();
  }

  @Get(':id/results')
  async results(@Param('id') id: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const read = this.readOf(req, res);
    const taskId = parseUuid(id, 'task id');
    if (wantsEventStream(req)) return this.streams.streamResults(read, taskId, lastEventId(req), () => new SseWriter(res, this.config.sseKeepAliveMs));
    const listing = await this.queries.execute(new ListResultsQuery(read, taskId));
    await this.answers.list(res, listing.complete ? 200 : 206, listing.items);
  }

  /** Who reads, how long they may wait, what they have seen; the read ends when the client goes away. */
  private readOf(req: ProxyRequest, res: Response): ReadContext {
    return readContextOf(req, res, this.config.maxWaitMs);
  }
}

function proxyOf(req: ProxyRequest): AuthenticatedProxy {
  return req.proxy as AuthenticatedProxy;
}

function messageOf(req: ProxyRequest): unknown {
  const body = parseJsonBody(req);
  return typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
}
