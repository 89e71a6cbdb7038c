/**
 * Brings the streams and broker-api's buckets to the configured limits before anything uses them (Nest runs
 * every onModuleInit before any onApplicationBootstrap). Limits nats-server cannot reserve stop start-up here,
 * with a message naming the settings.
 */
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { ensureStorage, NATS_CONNECTION } from '@beamline/nats';
import { brokerConfig } from '../config';
import { allApiBuckets } from './api-buckets';

@Injectable()
export class StorageSetup implements OnModuleInit {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onModuleInit(): Promise<void> {
    await ensureStorage(this.nc, brokerConfig().storage, allApiBuckets());
  }
}
