/**
 * Proxy presence and broker monitoring. The control route itself (`ControlController`) is registered in
 * ApiModule, because it needs ApiModule's ProxyAuthGuard; it uses ControlConnections exported from here.
 */
import { Module } from '@nestjs/common';
import { natsProvider, PresenceBuckets } from '@beamline/nats';
import { MonitoringController } from '../monitoring/monitoring.controller';
import { apiBuckets } from '../storage/api-buckets';
import { ControlConnections } from './control-connections';
import { PresenceStore } from './presence-store';

@Module({
  controllers: [MonitoringController],
  providers: [
    natsProvider(PresenceBuckets, (nc) => new PresenceBuckets(nc, { presence: apiBuckets.presence(), proxies: apiBuckets.proxies() })),
    PresenceStore,
    ControlConnections,
  ],
  exports: [PresenceStore, ControlConnections],
})
export class PresenceModule {}
