/** This replica's claim to the broker-store leader role (expiry sweeps and audit copying), via a NATS KV lease. */
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DEFAULT_LEASE, EXPIRY_LEADER_LEASE, LeaderLease, NATS_CONNECTION } from '@beamline/nats';
import { loadStoreConfig } from './config';

@Injectable()
export class Leadership implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly lease: LeaderLease;

  constructor(@Inject(NATS_CONNECTION) nc: NatsConnection) {
    this.lease = new LeaderLease(nc, EXPIRY_LEADER_LEASE, { ...DEFAULT_LEASE, replicas: loadStoreConfig().streamReplicas });
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
