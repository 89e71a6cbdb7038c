import { Module } from '@nestjs/common';
import { AuditProgress } from '@beamline/audit';
import { natsProvider, NatsModule, StoreResponder } from '@beamline/nats';
import { loadStoreConfig } from './config';
import { AuditCopier } from './audit.copier';
import { ExpirySweeper } from './expiry.sweeper';
import { Leadership } from './leadership';
import { ProjectionService } from './projection.service';
import { QueryResponder } from './query.responder';
import { StorageSetup } from './storage-setup';

@Module({
  imports: [NatsModule.forRoot(() => ({ servers: loadStoreConfig().natsUrl, name: `broker-store-${process.pid}` }))],
  providers: [
    natsProvider(StoreResponder, (nc) => new StoreResponder(nc)),
    natsProvider(AuditProgress, (nc) => new AuditProgress(nc)),
    StorageSetup,
    ProjectionService,
    QueryResponder,
    Leadership,
    ExpirySweeper,
    AuditCopier,
  ],
})
export class StoreModule {}
