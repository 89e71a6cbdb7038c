/**
 * Bodies too big to travel inside their messages (over INLINE_BODY_MAX_BYTES): the sealed bytes go to the
 * broker's blob store before the message, and the message carries their SHA-256 and size, signed. On the way
 * in, the bytes are fetched, and refused unless they are exactly what the signed message names; only then
 * are they opened, like an inline body.
 *
 * A few bodies at a time: each is held whole while it is checked and opened (up to 72 MiB sealed, as much
 * again opened), so downloads wait for one another here rather than fill the proxy's memory.
 */
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { BrokerUnavailable, type BlobRef } from '@beamline/domain';
import { BrokerClient } from '../broker/broker-client';

/** Blob bodies held at once by this proxy, uploads and downloads together. */
const MAX_BODIES_AT_ONCE = 3;
/** A download cut short is fetched again this many times before its message is refused. */
const DOWNLOAD_ATTEMPTS = 3;

@Injectable()
export class BodyBlobs {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly broker: BrokerClient) {}

  /** Uploads sealed bytes that the proxies `readers` may fetch; answers the reference the message will carry. */
  async upload(sealed: Buffer, readers: readonly string[]): Promise<BlobRef> {
    const ref = { sha256: createHash('sha256').update(sealed).digest('base64url'), size: sealed.length };
    const query = readers.length > 0 ? `?readers=${encodeURIComponent(readers.join(','))}` : '';
    await this.gated(async () =>
      this.broker.expect(await this.broker.send('PUT', `/v1/blobs/${ref.sha256}${query}`, sealed, { contentType: 'application/octet-stream' }), 201),
    );
    return ref;
  }

  /** `uploader`'s blob `ref`, checked against its signed size and SHA-256; throws when it is not exactly that. */
  download(uploader: string, ref: BlobRef): Promise<Buffer> {
    return this.gated(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.fetchOnce(uploader, ref);
        } catch (err) {
          if (!(err instanceof BrokerUnavailable) || attempt >= DOWNLOAD_ATTEMPTS) throw err;
        }
      }
    });
  }

  private async fetchOnce(uploader: string, ref: BlobRef): Promise<Buffer> {
    const res = this.broker.expect(await this.broker.send('GET', `/v1/blobs/${encodeURIComponent(uploader)}/${ref.sha256}`, undefined, { stream: true }), 200);
    const body = Buffer.allocUnsafe(ref.size);
    const hash = createHash('sha256');
    let size = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        if (size + chunk.length > ref.size) throw new Error(`blob ${ref.sha256}: more than the ${ref.size} bytes its message names`);
        body.set(chunk, size);
        hash.update(chunk);
        size += chunk.length;
      }
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('blob ')) throw err;
      throw new BrokerUnavailable(`blob ${ref.sha256}: download cut short (${String(err)})`, undefined, { cause: err });
    }
    if (size !== ref.size) throw new BrokerUnavailable(`blob ${ref.sha256}: ${size} of ${ref.size} bytes arrived`);
    if (hash.digest('base64url') !== ref.sha256) throw new Error(`blob ${ref.sha256}: its bytes are not the ones its message names`);
    return body;
  }

  private async gated<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < MAX_BODIES_AT_ONCE) this.running++;
    else await new Promise<void>((resolve) => this.queue.push(resolve)); // the finishing one hands its slot over
    try {
      return await work();
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
