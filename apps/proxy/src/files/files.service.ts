/**
 * Files sent store-and-forward, at the proxy (docs/decisions/0007): an upload is sealed as it streams in and
 * stored part by part in the broker's blob store, then offered with a signed message naming every part; a
 * download fetches the parts, checks and opens every chunk, and streams the plaintext out. Memory stays at
 * about a part (8 MiB) per transfer, whatever the file's size.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import { newFileKey, openFileStream, sealFileStream } from '@beamline/crypto';
import { BrokerUnavailable, FILE_PART_BYTES, fileReadStart, NotFound, PayloadTooLarge, proxyIdOf, type BlobRef, type WaitParams } from '@beamline/domain';
import { BrokerClient } from '../broker/broker-client';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { BodyBlobs } from '../tasks/body-blobs';
import { parseEventData, relayEvents, resumeHeader } from '../tasks/event-relay';
import type { SseWriter } from '@beamline/http';
import { FileOffers, type FileListing, type FileToOffer, type OpenedFile } from './file-offers';

/** A download as the app gets it: the bytes from `start` on, of a file of `size`. */
export interface FileDownload {
  size: number;
  start: number;
  metadata: unknown;
  bytes: AsyncIterable<Uint8Array>;
}

@Injectable()
export class FilesService {
  private readonly logger = new Logger('Files');

  constructor(
    private readonly broker: BrokerClient,
    private readonly offers: FileOffers,
    private readonly blobs: BodyBlobs,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {}

  /** Seals `body` as it arrives, stores it part by part, and offers it; answers the file's id and expiry. */
  async send(file: Omit<FileToOffer, 'id'>, body: AsyncIterable<Uint8Array>): Promise<{ id: string; expiresAt: number }> {
    const offer: FileToOffer = { ...file, id: randomUUID() };
    await this.offers.checkRecipients(offer.to); // 424 for a recipient without a certificate, before any upload
    const key = newFileKey();
    const readers = [...new Set(offer.to.map((r) => proxyIdOf(r, this.config.brokerId)))].filter((p) => p !== this.config.proxyId);
    let size = 0;
    const counted = async function* (this: FilesService): AsyncGenerator<Uint8Array> {
      for await (const piece of body) {
        size += piece.length;
        if (size > this.config.maxFileBytes) throw new PayloadTooLarge(`body: larger than MAX_FILE_SIZE (${this.config.maxFileBytes} bytes)`, 'file_too_large');
        yield piece;
      }
    }.call(this);
    // One part uploads while the next is sealed (the two overlap on different cores); never more than one, so
    // memory stays at about two parts.
    const parts: Array<Promise<BlobRef>> = [];
    const upload = async (part: Buffer): Promise<void> => {
      await parts.at(-1);
      const uploading = this.blobs.upload(part, readers);
      uploading.catch(() => undefined); // observed by Promise.all below, or abandoned with the request that failed
      parts.push(uploading);
    };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const chunk of sealFileStream(counted, key, offer.id)) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes === FILE_PART_BYTES) {
        await upload(Buffer.concat(pending));
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pendingBytes > 0) await upload(Buffer.concat(pending));
    const message = await this.offers.seal(offer, size, await Promise.all(parts), key);
    const res = this.broker.expect(await this.broker.send('POST', '/v1/files', { message }), 201);
    return { id: offer.id, expiresAt: Number((res.body as { expiresAt?: unknown }).expiresAt) };
  }

  /** The files offered to `caller` (long-polled like tasks); offers that fail verification are left out. */
  async list(caller: string, wait: WaitParams, signal: AbortSignal): Promise<{ items: FileListing[]; complete: boolean }> {
    const query = new URLSearchParams({
      beam_app: caller,
      wait_time: `${wait.waitMs}ms`,
      ...(wait.waitCount === undefined ? {} : { wait_count: String(wait.waitCount) }),
    });
    const res = await this.broker.lines(`/v1/files?${query.toString()}`, { timeoutMs: wait.waitMs + this.config.brokerTimeoutMs, signal });
    const items: FileListing[] = [];
    for await (const line of res.lines) {
      try {
        items.push(await this.offers.listed(line));
      } catch (err) {
        this.logger.warn(`refusing a file offer: ${String((err as Error).message ?? err)}`);
      }
    }
    return { items, complete: res.status === 200 };
  }

  /**
   * The files offered to `caller` as Server-Sent Events (`new_file`, each a listing entry), after stream sequence
   * `afterSeq`; `raw` holds the app's own wait_count and wait_time. Offers that fail verification are left out.
   */
  async stream(caller: string, raw: { wait_count?: string; wait_time?: string }, afterSeq: number, open: () => SseWriter, signal: AbortSignal): Promise<void> {
    const query = new URLSearchParams({ beam_app: caller });
    for (const [name, value] of Object.entries(raw)) if (value !== undefined) query.set(name, value);
    const upstream = await this.broker.openStream(`/v1/files?${query.toString()}`, { signal, headers: resumeHeader(afterSeq) });
    await relayEvents(
      upstream.body,
      open(),
      async (e) => {
        if (e.event !== 'new_file') return { event: e.event ?? 'message', data: e.data };
        try {
          return { id: e.id, event: 'new_file', data: JSON.stringify(await this.offers.listed(parseEventData(e.data))) };
        } catch (err) {
          this.logger.warn(`refusing a file offer: ${String((err as Error).message ?? err)}`);
          return undefined;
        }
      },
      signal,
    );
  }

  /** File `id` for `caller` (a recipient), from plaintext byte `start` on. */
  async download(caller: string, id: string, start: number): Promise<FileDownload> {
    const res = this.broker.expect(await this.broker.send('GET', `/v1/files/${id}?beam_app=${encodeURIComponent(caller)}`), 200);
    const opened = await this.offers.open(res.body, id, caller, this.config.brokerId);
    const { size, metadata } = opened.offer;
    if (start > size) throw new NotFound(`file ${id}: no byte ${start} in a file of ${size}`);
    return { size, start, metadata, bytes: this.plaintext(opened, start) };
  }

  async drop(caller: string, id: string): Promise<void> {
    this.broker.expect(await this.broker.send('DELETE', `/v1/files/${id}?beam_app=${encodeURIComponent(caller)}`), 204);
  }

  private async *plaintext(file: OpenedFile, start: number): AsyncGenerator<Uint8Array> {
    const from = fileReadStart(start);
    let skip = from.skip;
    const sealed = this.sealedFrom(file, from.part, from.partOffset);
    for await (const chunk of openFileStream(sealed, file.key, file.offer.id, file.chunkCount, from.chunk)) {
      if (skip >= chunk.length) {
        skip -= chunk.length;
        continue;
      }
      yield skip > 0 ? chunk.subarray(skip) : chunk;
      skip = 0;
    }
  }

  /** The sealed file from part `part`, byte `offset` in it, each part checked against its signed size and digest. */
  private async *sealedFrom(file: OpenedFile, part: number, offset: number): AsyncGenerator<Uint8Array> {
    for (let p = part; p < file.offer.parts.length; p++) {
      const ref = file.offer.parts[p];
      const res = this.broker.expect(
        await this.broker.send('GET', `/v1/blobs/${encodeURIComponent(file.uploader)}/${ref.sha256}`, undefined, { stream: true }),
        200,
      );
      const hash = createHash('sha256');
      let seen = 0;
      for await (const piece of res.body as AsyncIterable<Uint8Array>) {
        hash.update(piece);
        const before = seen;
        seen += piece.length;
        if (p === part && seen <= offset) continue;
        yield p === part && before < offset ? piece.subarray(offset - before) : piece;
      }
      if (seen !== ref.size || hash.digest('base64url') !== ref.sha256) {
        throw new BrokerUnavailable(`file ${file.offer.id}: part ${p} is not the one its offer names (${seen} of ${ref.size} bytes)`, 'verification_failed');
      }
    }
  }
}
