/**
 * Proxy presence and broker monitoring. The control route itself (`ControlController`) is registered in
 * ApiModule, because it needs ApiModule's ProxyAuthGuard; it uses ControlConnections exported from here.
 */
import { Module } from '@nestjs/common';
import { natsProviderWith, PresenceBuckets } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { MonitoringController } from '../monitoring/monitoring.controller';
import { apiBuckets } from '../storage/api-buckets';
import { ControlConnections } from './control-connections';
import { PresenceStore } from './presence-store';

@Module({
  controllers: [MonitoringController],
  providers: [
    natsProviderWith(
      PresenceBuckets,
      BROKER_CONFIG,
      (nc, c: BrokerConfig) => new PresenceBuckets(nc, { presence: apiBuckets.presence(c), proxies: apiBuckets.proxies(c) }),
    ),
    PresenceStore,
    ControlConnections,
  ],
  exports: [PresenceStore, ControlConnections],
})
export class PresenceModule {}
