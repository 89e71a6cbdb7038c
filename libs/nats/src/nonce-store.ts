/**
 * Remembers request nonces for the clock-skew window in a NATS KV bucket, so a captured request replayed to
 * any broker-api replica is refused. `create` succeeds only for a key not yet present.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { bucketStream, openBucket, type BucketSpec } from './buckets';
import { storageFullFrom } from './storage-full';

export class NonceStore {
  private bucket: Promise<KV> | undefined;

  /** `spec` is the nonce bucket (buckets.ts `nonceBucket`): its TTL is the window a nonce is remembered. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly spec: BucketSpec,
  ) {}

  /** Records `nonce`; false if it was seen inside the window. A full bucket throws StorageFull. */
  async claim(nonce: string): Promise<boolean> {
    const kv = await this.kv();
    try {
      await kv.create(nonce, new Uint8Array(0));
      return true;
    } catch (err) {
      if (/wrong last sequence|key exists/i.test(String(err))) return false;
      throw storageFullFrom(err, bucketStream(this.spec.bucket)) ?? err;
    }
  }

  private kv(): Promise<KV> {
    this.bucket ??= openBucket(this.nc, this.spec).catch((err) => {
      this.bucket = undefined;
      throw err;
    });
    return this.bucket;
  }
}
