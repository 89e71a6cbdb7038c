/**
 * Proxy-facing blob routes: sealed bodies too big to travel inside their messages (libs/nats blob-store.ts).
 * The sending proxy uploads the sealed bytes, then sends the message that names them by SHA-256 and size;
 * a recipient's proxy downloads them and checks both against the signed message before it opens them.
 * Neither the broker nor anyone reading NATS can read a blob: it is sealed like an inline body.
 */
import { Controller, Get, Inject, Param, Put, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { InvalidInput, MAX_BLOB_BYTES, NotFound, parseBeamId, parseBlobRef, PayloadTooLarge, proxyIdOf } from '@beamline/domain';
import { queryParam } from '@beamline/http';
import { BlobStore } from '@beamline/nats';
import { ProxyAuthGuard, StreamedBody, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { UploadSlots } from '../auth/upload-slots';
import { ProxyQuotas } from '../quotas/proxy-quotas';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

/** At most this many reader proxies per blob: a message has at most MAX_RECIPIENTS recipients, on fewer proxies. */
const MAX_READERS = 1_000;

@Controller('v1/blobs')
@UseGuards(ProxyAuthGuard)
export class BlobsController {
  constructor(
    private readonly blobs: BlobStore,
    private readonly uploads: UploadSlots,
    private readonly quotas: ProxyQuotas,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  /**
   * `PUT /v1/blobs/<sha256>?readers=<proxy>,<proxy>`: stores the body, which must be `Content-Length` bytes
   * with that SHA-256 (the request's authentication binds the same digest), as the caller's blob.
   */
  @Put(':sha256')
  @StreamedBody()
  async upload(@Param('sha256') sha256: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const proxy = req.proxy as AuthenticatedProxy;
    this.quotas.admitWrite(proxy.proxyId);
    const ref = parseBlobRef({ sha256, size: announcedLength(req) }, 'blob');
    if (req.streamedBodyDigest !== ref.sha256) throw new InvalidInput(`blob: the request's body digest is not ${ref.sha256}`, 'blob_mismatch');
    const readers = this.readersOf(req);
    await this.uploads.run(proxy.proxyId, () => this.blobs.put(proxy.proxyId, ref, readers, req));
    res.status(201).json(ref);
  }

  /** `GET /v1/blobs/<uploader>/<sha256>`: the blob's bytes, for its uploader and its readers only (404 for anyone else). */
  @Get(':uploader/:sha256')
  async download(@Param('uploader') uploader: string, @Param('sha256') sha256: string, @Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const proxy = req.proxy as AuthenticatedProxy;
    const ref = parseBlobRef({ sha256, size: 0 }, 'blob');
    const blob = await this.blobs.read(parseBeamId(uploader, 'uploader'), ref.sha256);
    if (!blob || (proxy.proxyId !== uploader && !blob.info.readers.includes(proxy.proxyId))) throw new NotFound(`blob ${uploader}/${sha256} not found`);
    res.status(200).setHeader('content-type', 'application/octet-stream').setHeader('content-length', String(blob.info.size));
    // Headers are out: a failure now can only cut the answer short, which the reader's size and digest checks refuse.
    await pipeline(Readable.from(blob.data), res).catch(() => res.destroy());
  }

  private readersOf(req: ProxyRequest): string[] {
    const raw = queryParam(req, 'readers');
    if (raw === undefined || raw === '') return [];
    const readers = [...new Set(raw.split(','))];
    if (readers.length > MAX_READERS) throw new InvalidInput(`readers: at most ${MAX_READERS} proxies`);
    return readers.map((r, i) => proxyIdOf(parseBeamId(r, `readers[${i}]`), this.config.brokerId, `readers[${i}]`));
  }
}

/** The upload's announced size: a blob is uploaded with a Content-Length, so it can be refused before it is read. */
function announcedLength(req: ProxyRequest): number {
  const raw = req.headers['content-length'];
  if (raw === undefined || !/^\d+$/.test(raw)) throw new InvalidInput('content-length: a blob upload needs one', 'length_required');
  const size = Number(raw);
  if (size > MAX_BLOB_BYTES) throw new PayloadTooLarge(`body: larger than the limit of ${MAX_BLOB_BYTES} bytes`);
  return size;
}
