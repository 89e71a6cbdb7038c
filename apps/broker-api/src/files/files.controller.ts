/**
 * Proxy-facing file routes (Beamline's own addition): offer, list (long-poll or SSE), read one offer, drop. The
 * file's bytes never pass here: they are parts in the blob store (`/v1/blobs`), fetched by the recipients'
 * proxies, which decrypt them.
 */
import { Controller, Delete, Get, Inject, Param, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { Response } from 'express';
import { parseUuid } from '@beamline/domain';
import { lastEventId, parseJsonBody, queryParam, SseWriter, wantsEventStream } from '@beamline/http';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { EventAnswers } from '../tasks/event-answers';
import { readContextOf, type ReadContext } from '../tasks/read-context';
import { ProxyWaitingCap } from '../tasks/waiting-proxies';
import { FileStreams, GetFileQuery, ListFilesQuery } from './file-reads';
import { DropFileCommand, OfferFileCommand } from './file-writes';

@Controller('v1/files')
@UseGuards(ProxyAuthGuard)
@UseInterceptors(ProxyWaitingCap)
export class FilesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly answers: EventAnswers,
    private readonly streams: FileStreams,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  @Post()
  async offer(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const body = parseJsonBody(req);
    const message = typeof body === 'object' && body !== null ? (body as { message?: unknown }).message : undefined;
    const { fileId, expiresAt, seq } = await this.commands.execute(new OfferFileCommand(req.proxy as AuthenticatedProxy, message));
    res.status(201).setHeader('Location', `/v1/files/${fileId}`).setHeader('Beam-Seq', String(seq)).json({ id: fileId, expiresAt });
  }

  @Get()
  async list(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const read = this.readOf(req, res);
    if (wantsEventStream(req)) return this.streams.streamFiles(read, lastEventId(req), () => new SseWriter(res, this.config.sseKeepAliveMs));
    const listing = await this.queries.execute(new ListFilesQuery(read));
    await this.answers.list(res, listing.complete ? 200 : 206, listing.items);
  }

  @Get(':id')
  async getOne(@Param('id') id: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const fileId = parseUuid(id, 'file id');
    const ref = await this.queries.execute(new GetFileQuery(this.readOf(req, res), fileId));
    await this.answers.one(res, ref, `file ${fileId} not found`);
  }

  @Delete(':id')
  async drop(@Param('id') id: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const { seq } = await this.commands.execute(new DropFileCommand(req.proxy as AuthenticatedProxy, id, String(queryParam(req, 'beam_app'))));
    res.status(204).setHeader('Beam-Seq', String(seq)).end();
  }

  private readOf(req: ProxyRequest, res: Response): ReadContext {
    return readContextOf(req, res, this.config.maxWaitMs);
  }
}
