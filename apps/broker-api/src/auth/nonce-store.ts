/**
 * Remembers request nonces for the clock-skew window in a NATS KV bucket, so a captured request replayed to
 * any broker-api replica is refused. `create` succeeds only for a key not yet present.
 */
import { Inject, Injectable } from '@nestjs/common';
import { Kvm, type KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { Unauthenticated } from '@beamline/domain';
import { NATS_CONNECTION, NONCE_BUCKET } from '@beamline/nats';
import { brokerConfig } from '../config';

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
      throw err;
    }
  }

  private kv(): Promise<KV> {
    this.bucket ??= new Kvm(this.nc).create(NONCE_BUCKET, { ttl: 2 * brokerConfig().maxClockSkewMs + 60_000, history: 1, replicas: brokerConfig().streamReplicas }).catch((err) => {
      this.bucket = undefined;
      throw err;
    });
    return this.bucket;
  }
}
