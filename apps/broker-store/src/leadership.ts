/** This replica's claim to the broker-store leader role (expiry sweeps and audit copying), via a NATS KV lease. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DEFAULT_LEASE_RENEW_MS, DEFAULT_LEASE_TTL_MS, EXPIRY_LEADER_LEASE, Leases, leaseBucket, type LeaderLease } from '@beamline/nats';
import { STORE_CONFIG, type StoreConfig } from './config';

@Injectable()
export class Leadership implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lease: LeaderLease;

  constructor(leases: Leases, @Inject(STORE_CONFIG) config: StoreConfig) {
    const bucket = leaseBucket(config.storage, DEFAULT_LEASE_TTL_MS);
    this.lease = leases.lease(EXPIRY_LEADER_LEASE, { bucket, renewMs: DEFAULT_LEASE_RENEW_MS });
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
