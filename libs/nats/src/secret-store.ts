/**
 * Secrets every replica of a service must share, kept in a NATS KV bucket: the first replica to need one
 * creates it at random, once, and every replica reads it from there.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { openBucket, type BucketSpec } from './buckets';

export class SecretStore {
  /** `spec` is the secrets bucket (buckets.ts `secretsBucket`). */
  constructor(
    private readonly nc: NatsConnection,
    private readonly spec: BucketSpec,
  ) {}

  /**
   * The secret under `key`, first creating `bytes` random bytes there unless a replica already did. What the
   * bucket holds is returned as is (undefined when absent), so the caller judges whether it is usable.
   */
  async getOrCreate(key: string, bytes: number): Promise<Buffer | undefined> {
    const kv = await openBucket(this.nc, this.spec);
    await kv.create(key, randomBytes(bytes)).catch(() => undefined); // another replica was first
    const entry = await kv.get(key);
    return entry ? Buffer.from(entry.value) : undefined;
  }
}
