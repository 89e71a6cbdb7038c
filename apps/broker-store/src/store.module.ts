import { Module } from '@nestjs/common';
import { NatsModule } from '@beamline/nats';
import { loadStoreConfig } from './config';
import { AuditCopier } from './audit.copier';
import { ExpirySweeper } from './expiry.sweeper';
import { Leadership } from './leadership';
import { ProjectionService } from './projection.service';
import { QueryResponder } from './query.responder';
import { StorageSetup } from './storage-setup';

@Module({
  imports: [NatsModule.forRoot(() => ({ servers: loadStoreConfig().natsUrl, name: `broker-store-${process.pid}` }))],
  providers: [StorageSetup, ProjectionService, QueryResponder, Leadership, ExpirySweeper, AuditCopier],
})
export class StoreModule {}
