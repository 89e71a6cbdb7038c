/**
 * Leader election over NATS KV: the leader holds a key in a bucket whose TTL is the lease length and renews
 * it well within that time with a revision-checked update; if the leader dies, its key ages out and the next
 * replica's `create` wins. A leader that fails to renew steps down at once, so two leaders never overlap for
 * longer than one renew interval.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { openBucket, type BucketSpec } from './buckets';

export interface LeaseOptions {
  /** The lease bucket (buckets.ts `leaseBucket`): its TTL is the lease length, its replicas as many as the streams'. */
  bucket: BucketSpec;
  renewMs: number;
}

/** How long a lease lasts without renewal; the lease bucket's TTL. */
export const DEFAULT_LEASE_TTL_MS = 3_000;
export const DEFAULT_LEASE_RENEW_MS = 1_000;

export class LeaderLease {
  readonly holderId = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;
  private kv: KV | undefined;
  private revision = 0;
  private timer: NodeJS.Timeout | undefined;
  private leader = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly name: string,
    private readonly opts: LeaseOptions,
  ) {}

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    const loop = async () => {
      await this.tick();
      this.timer = setTimeout(() => void loop(), this.opts.renewMs);
    };
    void loop();
  }

  /** Stops renewing and hands the lease over at once (deletes the key) if we hold it. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    if (this.leader && this.kv) await this.kv.delete(this.name).catch(() => undefined);
    this.leader = false;
  }

  private async tick(): Promise<void> {
    try {
      this.kv ??= await openBucket(this.nc, this.opts.bucket);
      const value = new TextEncoder().encode(this.holderId);
      this.revision = this.leader ? await this.kv.update(this.name, value, this.revision) : await this.kv.create(this.name, value);
      this.leader = true;
    } catch {
      this.leader = false;
    }
  }
}

/** Builds {@link LeaderLease}s on the process's connection. */
export class Leases {
  constructor(private readonly nc: NatsConnection) {}

  lease(name: string, opts: LeaseOptions): LeaderLease {
    return new LeaderLease(this.nc, name, opts);
  }
}
