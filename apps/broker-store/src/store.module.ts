import { Module, type DynamicModule } from '@nestjs/common';
import { AuditProgress } from '@beamline/audit';
import { BlobStore, natsProvider, NatsModule, StoreResponder } from '@beamline/nats';
import { STORE_CONFIG, type StoreConfig } from './config';
import { AuditCopier } from './audit.copier';
import { ExpirySweeper } from './expiry.sweeper';
import { HealthController } from './health/health.controller';
import { MetricsController } from './health/metrics.controller';
import { Leadership } from './leadership';
import { ProjectionService } from './projection.service';
import { QueryResponder } from './query.responder';
import { StorageSetup } from './storage-setup';

@Module({})
export class StoreModule {
  /** The store, configured by `config` (loaded and validated once, in main.ts). */
  static forRoot(config: StoreConfig): DynamicModule {
    return {
      module: StoreModule,
      controllers: [HealthController, MetricsController],
      imports: [NatsModule.forRoot(() => ({ connection: config.nats, name: `broker-store-${process.pid}` }))],
      providers: [
        { provide: STORE_CONFIG, useValue: config },
        natsProvider(StoreResponder, (nc) => new StoreResponder(nc)),
        natsProvider(BlobStore, (nc) => new BlobStore(nc)),
        natsProvider(AuditProgress, (nc) => new AuditProgress(nc)),
        StorageSetup,
        ProjectionService,
        QueryResponder,
        Leadership,
        ExpirySweeper,
        AuditCopier,
      ],
    };
  }
}
