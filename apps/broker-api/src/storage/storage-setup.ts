/**
 * Brings the streams and broker-api's buckets to the configured limits before anything uses them (Nest runs
 * every onModuleInit before any onApplicationBootstrap). Limits nats-server cannot reserve stop start-up here,
 * with a message naming the settings.
 */
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { StorageProvisioner } from '@beamline/nats';
import { brokerConfig } from '../config';
import { allApiBuckets } from './api-buckets';

@Injectable()
export class StorageSetup implements OnModuleInit {
  constructor(private readonly storage: StorageProvisioner) {}

  async onModuleInit(): Promise<void> {
    await this.storage.ensure(brokerConfig().storage, allApiBuckets());
  }
}
