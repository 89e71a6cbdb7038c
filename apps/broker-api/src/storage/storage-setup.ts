/**
 * Brings the streams and broker-api's buckets to the configured limits before anything uses them (Nest runs
 * every onModuleInit before any onApplicationBootstrap). Limits nats-server cannot reserve stop start-up here,
 * with a message naming the settings.
 */
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { retryTransient, StorageProvisioner } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { allApiBuckets } from './api-buckets';

@Injectable()
export class StorageSetup implements OnModuleInit {
  private readonly logger = new Logger('StorageSetup');

  constructor(
    private readonly storage: StorageProvisioner,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    const log = (line: string): void => this.logger.warn(line);
    await this.storage.ensure(this.config.storage, allApiBuckets(this.config), log);
    if (await retryTransient('removing the legacy secrets bucket', () => this.storage.removeLegacySecrets(), { log })) {
      this.logger.warn('deleted KV beam-broker-secrets, where an older broker-api kept its session secret; sessions now derive from SESSION_SECRET');
    }
  }
}
