/** The app-facing task routes of Samply.Beam's v1 API. */
import { Inject, Controller, Get, Param, Post, Put, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import type { Request, Response } from 'express';
import { DEFAULT_MAX_WAIT_MS, parseTaskListQuery, parseWaitParams, type WaitParams } from '@beamline/domain';
import { abortOnClose, lastEventId, parseJsonBody, queryParam, SseWriter, wantsEventStream, writeJsonArray } from '@beamline/http';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { ApiKeyGuard, callerOf, type AppRequest } from '../auth/api-key.guard';
import { ApiAppRoutes } from '../openapi/responses';
import { ApiCreateTask, ApiGetTask, ApiListResults, ApiListTasks, ApiPutResult } from '../openapi/route-docs';
import { TasksService } from './tasks.service';
import { AppWaitingCap } from './waiting-apps';

@Controller('v1/tasks')
@ApiAppRoutes('tasks')
@UseGuards(ApiKeyGuard)
@UseInterceptors(AppWaitingCap)
export class TasksController {
  private readonly keepAliveMs: number;

  constructor(
    private readonly tasks: TasksService,
    @Inject(PROXY_CONFIG) config: ProxyConfig,
  ) {
    this.keepAliveMs = config.sseKeepAliveMs;
  }

  @Post()
  @ApiCreateTask()
  async create(@Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const id = await this.tasks.create(callerOf(req), parseJsonBody(req));
    res.status(201).setHeader('Location', `/v1/tasks/${id}`).end();
  }

  @Get()
  @ApiListTasks()
  async list(@Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const caller = callerOf(req);
    const raw = pick(req, 'from', 'to', 'filter', 'wait_count', 'wait_time');
    parseTaskListQuery(raw, caller); // 400/403 naming the parameter before anything is asked of the broker
    const wait = waitOf(raw);
    if (wantsEventStream(req)) return this.tasks.streamTasks(caller, raw, lastEventId(req), this.sse(res), abortOnClose(res));
    const listing = await this.tasks.list(caller, raw, wait, abortOnClose(res));
    await writeJsonArray(res, listing.complete ? 200 : 206, listing.items);
  }

  @Get(':id')
  @ApiGetTask()
  async getOne(@Param('id') id: string, @Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const raw = pick(req, 'wait_count', 'wait_time');
    res.status(200).json(await this.tasks.get(callerOf(req), id, raw, waitOf(raw), abortOnClose(res)));
  }

  @Put(':id/results/:app_id')
  @ApiPutResult()
  async putResult(@Param('id') id: string, @Param('app_id') app: string, @Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const created = await this.tasks.putResult(callerOf(req), id, app, parseJsonBody(req));
    res.status(created ? 201 : 204).end();
  }

  @Get(':id/results')
  @ApiListResults()
  async results(@Param('id') id: string, @Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const raw = pick(req, 'wait_count', 'wait_time');
    const wait = waitOf(raw);
    if (wantsEventStream(req)) return this.tasks.streamResults(callerOf(req), id, raw, lastEventId(req), this.sse(res), abortOnClose(res));
    const listing = await this.tasks.results(callerOf(req), id, raw, wait, abortOnClose(res));
    await writeJsonArray(res, listing.complete ? 200 : 206, listing.items);
  }

  private sse(res: Response): () => SseWriter {
    return () => new SseWriter(res, this.keepAliveMs);
  }
}

function pick(req: Request, ...names: string[]): Record<string, string | undefined> {
  return Object.fromEntries(names.map((n) => [n, queryParam(req, n)]));
}

function waitOf(raw: Record<string, string | undefined>): WaitParams {
  return parseWaitParams({ wait_count: raw.wait_count, wait_time: raw.wait_time }, DEFAULT_MAX_WAIT_MS);
}
