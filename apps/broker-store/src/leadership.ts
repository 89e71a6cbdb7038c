/** This replica's claim to the broker-store leader role (expiry sweeps and audit copying), via a NATS KV lease. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DEFAULT_LEASE_RENEW_MS, DEFAULT_LEASE_TTL_MS, EXPIRY_LEADER_LEASE, LeaderLease, leaseBucket, NATS_CONNECTION } from '@beamline/nats';
import { loadStoreConfig } from './config';

@Injectable()
export class Leadership implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lease: LeaderLease;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    const bucket = leaseBucket(loadStoreConfig().storage, DEFAULT_LEASE_TTL_MS);
    this.lease = new LeaderLease(nc, EXPIRY_LEADER_LEASE, { bucket, renewMs: DEFAULT_LEASE_RENEW_MS });
  }

  get isLeader(): boolean {
    return this.lease.isLeader;
  }

  onApplicationBootstrap(): void {
    this.lease.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.lease.stop();
  }
}
