/**
 * The secret all broker-api replicas derive session keys from. `SESSION_SECRET` (hex or base64, ≥ 32 bytes)
 * when the operator sets one; otherwise the first replica creates a random one, once, in NATS KV and every
 * replica reads it from there. Either way a session opened on one replica is valid on all.
 */
import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import { NATS_CONNECTION, openBucket, SESSION_SECRET_KEY } from '@beamline/nats';
import { brokerConfig } from '../config';
import { apiBuckets } from '../storage/api-buckets';

@Injectable()
export class SessionSecret {
  private secret: Promise<Buffer> | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  get(): Promise<Buffer> {
    this.secret ??= this.load().catch((err) => {
      this.secret = undefined;
      throw err;
    });
    return this.secret;
  }

  private async load(): Promise<Buffer> {
    const configured = brokerConfig().sessionSecret;
    if (configured) return configured;
    const kv = await openBucket(this.nc, apiBuckets.secrets());
    await kv.create(SESSION_SECRET_KEY, randomBytes(32)).catch(() => undefined); // another replica was first
    const entry = await kv.get(SESSION_SECRET_KEY);
    if (!entry || entry.value.length < 32) throw new Error('session secret missing from NATS KV');
    return Buffer.from(entry.value);
  }
}
