/**
 * Proxy presence and broker monitoring. The control route itself (`ControlController`) is registered in
 * ApiModule, because it needs ApiModule's ProxyAuthGuard; it uses ControlConnections exported from here.
 */
import { Module } from '@nestjs/common';
import { MonitoringController } from '../monitoring/monitoring.controller';
import { ControlConnections } from './control-connections';
import { PresenceStore } from './presence-store';

@Module({
  controllers: [MonitoringController],
  providers: [PresenceStore, ControlConnections],
  exports: [PresenceStore, ControlConnections],
})
export class PresenceModule {}
