/**
 * Brings the streams and the lease bucket to the configured limits before anything uses them (Nest runs every
 * onModuleInit before any onApplicationBootstrap). Limits nats-server cannot reserve stop start-up here, with
 * a message naming the settings.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { DEFAULT_LEASE_TTL_MS, ensureStorage, leaseBucket, NATS_CONNECTION } from '@beamline/nats';
import { loadStoreConfig } from './config';

@Injectable()
export class StorageSetup implements OnModuleInit {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onModuleInit(): Promise<void> {
    const { storage } = loadStoreConfig();
    await ensureStorage(this.nc, storage, [leaseBucket(storage, DEFAULT_LEASE_TTL_MS)]);
  }
}
