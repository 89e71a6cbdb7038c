/**
 * Brings the streams and the lease bucket to the configured limits before anything uses them (Nest runs every
 * onModuleInit before any onApplicationBootstrap). Limits nats-server cannot reserve stop start-up here, with
 * a message naming the settings.
 */
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DEFAULT_LEASE_TTL_MS, leaseBucket, StorageProvisioner } from '@beamline/nats';
import { STORE_CONFIG, type StoreConfig } from './config';

@Injectable()
export class StorageSetup implements OnModuleInit {
  private readonly logger = new Logger('StorageSetup');

  constructor(
    private readonly provisioner: StorageProvisioner,
    @Inject(STORE_CONFIG) private readonly config: StoreConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const { storage } = this.config;
    await this.provisioner.ensure(storage, [leaseBucket(storage, DEFAULT_LEASE_TTL_MS)], (line) => this.logger.warn(line));
  }
}
