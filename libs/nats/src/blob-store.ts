/**
 * The object store of sealed bodies too big to travel inside their messages (`beam-blobs`, stream
 * OBJ_beam-blobs, configured in streams.ts). A proxy uploads a sealed body before it sends the message that
 * refers to it; the message names the blob by its SHA-256 and size, signed. Blobs are named
 * `<uploading proxy>/<sha256>`: content-addressed within one proxy's namespace, so a retried upload is
 * idempotent and no proxy can replace another's blob. Each blob records the proxies that may fetch it.
 *
 * An upload is checked as it streams: more bytes than announced, fewer, or another digest, and the store's
 * client never writes the object's description, so nothing of it becomes visible (its chunks are purged).
 */
import { createHash } from 'node:crypto';
import { Objm, setSha256Backend, type ObjectInfo, type ObjectStore } from '@nats-io/obj';
import type { NatsConnection } from '@nats-io/nats-core';
import { InvalidInput, PayloadTooLarge, type BlobRef, type ListedBlob } from '@beamline/domain';
import { storageFullFrom } from './storage-full';
import { BLOBS_BUCKET, BLOBS_STREAM } from './subjects';

/** A blob as the store describes it. */
export interface BlobInfo extends BlobRef {
  uploader: string;
  /** Proxies that may fetch it besides the uploader. */
  readers: string[];
}

/** Fewer, larger chunks than the client's 128 KiB default: one acknowledged publish per chunk. */
const CHUNK_BYTES = 512 * 1024;

export class BlobStore {
  private store: Promise<ObjectStore> | undefined;

  /**
   * @param sha256 - the SHA-256 the store's client hashes every byte with, on put and get. Its default is pure
   *   JavaScript (browser-safe): it took 4.2 of broker-api's 5.8 CPU seconds uploading 256 MiB (bench/files,
   *   profiled); Node's native one is the default here. The choice is process-wide. 'js' is for code run
   *   inside jest's VM, which cannot load `node:crypto` the way the client does (a dynamic import).
   */
  constructor(
    private readonly nc: NatsConnection,
    sha256: 'native' | 'js' = 'native',
  ) {
    setSha256Backend(sha256);
  }

  /**
   * Stores `body`, which must be exactly `ref.size` bytes with SHA-256 `ref.sha256`, as `uploader`'s blob that
   * `readers` may fetch. A full store throws StorageFull; a body that does not match `ref` InvalidInput.
   */
  async put(uploader: string, ref: BlobRef, readers: readonly string[], body: AsyncIterable<Uint8Array>): Promise<BlobInfo> {
    const os = await this.objects();
    const meta = { name: blobName(uploader, ref.sha256), metadata: { readers: readers.join(',') }, options: { max_chunk_size: CHUNK_BYTES } };
    try {
      await os.put(meta, checkedStream(body, ref));
    } catch (err) {
      throw storageFullFrom(err, BLOBS_STREAM) ?? err;
    }
    return { ...ref, uploader, readers: [...readers] };
  }

  /** The blob `sha256` of `uploader`, or undefined when there is none. */
  async info(uploader: string, sha256: string): Promise<BlobInfo | undefined> {
    const info = await (await this.objects()).info(blobName(uploader, sha256));
    return info && !info.deleted ? describe(uploader, sha256, info) : undefined;
  }

  /** The blob's description and its bytes as they arrive; the store's client checks the digest at the end. */
  async read(uploader: string, sha256: string): Promise<{ info: BlobInfo; data: AsyncIterable<Uint8Array> } | undefined> {
    const result = await (await this.objects()).get(blobName(uploader, sha256));
    if (!result || result.info.deleted) return undefined;
    return { info: describe(uploader, sha256, result.info), data: checkedRead(result.data, result.error) };
  }

  /** Every blob in the store (not the deleted ones), with when it was stored: reads every description once. */
  async list(): Promise<ListedBlob[]> {
    const listed: ListedBlob[] = [];
    for (const info of await (await this.objects()).list()) {
      const slash = info.name.indexOf('/');
      if (info.deleted || slash < 0) continue;
      listed.push({ uploader: info.name.slice(0, slash), sha256: info.name.slice(slash + 1), storedAt: Date.parse(info.mtime) });
    }
    return listed;
  }

  /** Deletes the blob (a no-op when it is gone already). */
  async delete(uploader: string, sha256: string): Promise<void> {
    const os = await this.objects();
    try {
      await os.delete(blobName(uploader, sha256));
    } catch (err) {
      if (!/not found/i.test(String(err))) throw err;
    }
  }

  private objects(): Promise<ObjectStore> {
    this.store ??= new Objm(this.nc).open(BLOBS_BUCKET).catch((err: unknown) => {
      this.store = undefined;
      throw err;
    });
    return this.store;
  }
}

function blobName(uploader: string, sha256: string): string {
  return `${uploader}/${sha256}`;
}

function describe(uploader: string, sha256: string, info: ObjectInfo): BlobInfo {
  const readers = info.metadata?.readers;
  return { sha256, size: info.size, uploader, readers: readers ? readers.split(',') : [] };
}

/** `body` as the object store reads it, failing (so nothing is committed) unless it is exactly `ref`. */
function checkedStream(body: AsyncIterable<Uint8Array>, ref: BlobRef): ReadableStream<Uint8Array> {
  const hash = createHash('sha256');
  const it = body[Symbol.asyncIterator]();
  let size = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await it.next();
        if (done) {
          if (size !== ref.size) throw new InvalidInput(`body: ${size} bytes, the blob was announced with ${ref.size}`, 'blob_mismatch');
          if (hash.digest('base64url') !== ref.sha256) throw new InvalidInput(`body: its SHA-256 is not ${ref.sha256}`, 'blob_mismatch');
          controller.close();
          return;
        }
        size += value.length;
        if (size > ref.size) throw new PayloadTooLarge(`body: more than the ${ref.size} bytes announced`);
        hash.update(value);
        controller.enqueue(value);
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel() {
      await it.return?.();
    },
  });
}

async function* checkedRead(data: ReadableStream<Uint8Array>, error: Promise<Error | null>): AsyncGenerator<Uint8Array> {
  for await (const chunk of data) yield chunk;
  const failed = await error;
  if (failed) throw failed;
}
