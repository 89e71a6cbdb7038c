/**
 * Files store-and-forward: Beamline's own addition to the app API (README, "Files"). `POST /v1/files` streams a
 * file in (sealed as it arrives), `GET /v1/files` lists the files offered to the app (long-poll like tasks, or
 * Server-Sent Events `new_file` with `Accept: text/event-stream`),
 * `GET /v1/files/{id}` streams one out (with `Range: bytes=N-` to resume), `DELETE` drops it for the app.
 */
import { Controller, Delete, Get, Inject, Param, Post, Req, Res, UseGuards, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { DEFAULT_MAX_TTL_MS, InvalidInput, parseFileRequest, parseUuid, parseWaitParams, DEFAULT_MAX_WAIT_MS } from '@beamline/domain';
import { abortOnClose, lastEventId, queryParam, SseWriter, wantsEventStream } from '@beamline/http';
import { ApiKeyGuard, callerOf, type AppRequest } from '../auth/api-key.guard';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { ApiAppRoutes } from '../openapi/responses';
import { ApiDownloadFile, ApiDropFile, ApiListFiles, ApiSendFile } from '../openapi/route-docs';
import { AppWaitingCap } from '../tasks/waiting-apps';
import { FilesService } from './files.service';

@Controller('v1/files')
@ApiAppRoutes('files')
@UseGuards(ApiKeyGuard)
@UseInterceptors(AppWaitingCap)
export class FilesController {
  constructor(
    private readonly files: FilesService,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {}

  @Post()
  @ApiSendFile()
  async send(@Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const metadata = req.headers['beam-metadata'];
    const params = parseFileRequest(
      { to: queryParam(req, 'to'), ttl: queryParam(req, 'ttl'), metadata: typeof metadata === 'string' ? metadata : undefined },
      { maxTtlMs: DEFAULT_MAX_TTL_MS, maxRecipients: this.config.maxRecipients },
    );
    const { id, expiresAt } = await this.files.send({ from: callerOf(req), ...params }, req);
    res
      .status(201)
      .setHeader('Location', `/v1/files/${id}`)
      .json({ id, expiresAt: new Date(expiresAt).toISOString() });
  }

  @Get()
  @ApiListFiles()
  async list(@Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const raw = { wait_count: queryParam(req, 'wait_count'), wait_time: queryParam(req, 'wait_time') };
    const wait = parseWaitParams(raw, DEFAULT_MAX_WAIT_MS); // 400 naming the parameter before the broker is asked
    if (wantsEventStream(req)) {
      const keepAliveMs = this.config.sseKeepAliveMs;
      return this.files.stream(callerOf(req), raw, lastEventId(req), () => new SseWriter(res, keepAliveMs), abortOnClose(res));
    }
    const listing = await this.files.list(callerOf(req), wait, abortOnClose(res));
    res.status(listing.complete ? 200 : 206).json(listing.items);
  }

  @Get(':id')
  @ApiDownloadFile()
  async download(@Param('id') id: string, @Req() req: AppRequest, @Res() res: Response): Promise<void> {
    const file = await this.files.download(callerOf(req), parseUuid(id, 'file id'), rangeStart(req.headers.range));
    // The first piece before the headers: a file that cannot even start is a plain JSON error.
    const bytes = file.bytes[Symbol.asyncIterator]();
    const first = await bytes.next();
    res.status(file.start > 0 ? 206 : 200);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(file.size - file.start));
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Beam-Metadata', JSON.stringify(file.metadata));
    if (file.start > 0) res.setHeader('Content-Range', `bytes ${file.start}-${file.size - 1}/${file.size}`);
    // After the first byte, a failure can only cut the answer short (fewer bytes than Content-Length).
    await pipeline(Readable.from(resumed(first, bytes)), res).catch(() => res.destroy());
  }

  @Delete(':id')
  @ApiDropFile()
  async drop(@Param('id') id: string, @Req() req: AppRequest, @Res() res: Response): Promise<void> {
    await this.files.drop(callerOf(req), parseUuid(id, 'file id'));
    res.status(204).end();
  }
}

/** The first byte a `Range: bytes=N-` asks for (0 without one); other forms are refused. */
function rangeStart(range: string | undefined): number {
  if (range === undefined) return 0;
  const m = /^bytes=(\d{1,15})-$/.exec(range.trim());
  if (!m) throw new InvalidInput('Range: only "bytes=<first byte>-" is supported');
  return Number(m[1]);
}

async function* resumed<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncGenerator<T> {
  if (first.done) return;
  yield first.value;
  for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
}
