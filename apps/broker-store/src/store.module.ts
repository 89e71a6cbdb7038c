import { Module } from '@nestjs/common';
import { NatsModule } from '@beamline/nats';
import { loadStoreConfig } from './config';
import { ExpirySweeper } from './expiry.sweeper';
import { ProjectionService } from './projection.service';
import { QueryResponder } from './query.responder';

@Module({
  imports: [NatsModule.forRoot(() => ({ servers: loadStoreConfig().natsUrl, name: `broker-store-${process.pid}` }))],
  providers: [ProjectionService, QueryResponder, ExpirySweeper],
})
export class StoreModule {}
