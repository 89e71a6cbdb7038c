/**
 * Remembers request nonces for the clock-skew window in a NATS KV bucket, so a captured request replayed to
 * any broker-api replica is refused. `create` succeeds only for a key not yet present.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { Unauthenticated } from '@beamline/domain';
import { bucketStream, NATS_CONNECTION, NONCE_BUCKET, openBucket, storageFullFrom } from '@beamline/nats';
import { apiBuckets } from '../storage/api-buckets';

@Injectable()
export class NonceStore {
  private bucket: Promise<KV> | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** Records `nonce`; throws Unauthenticated if it was seen inside the window. */
  async claim(nonce: string): Promise<void> {
    const kv = await this.kv();
    try {
      await kv.create(nonce, new Uint8Array(0));
    } catch (err) {
      if (/wrong last sequence|key exists/i.test(String(err))) throw new Unauthenticated('request: nonce already used (replay)', 'replayed');
      throw storageFullFrom(err, bucketStream(NONCE_BUCKET)) ?? err;
    }
  }

  private kv(): Promise<KV> {
    this.bucket ??= openBucket(this.nc, apiBuckets.nonces()).catch((err) => {
      this.bucket = undefined;
      throw err;
    });
    return this.bucket;
  }
}
