import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { BlobStore, natsProvider, natsProviderWith, NatsModule, NonceStore, Notifications, RelayChannels } from '@beamline/nats';
import { ProxyAuthGuard } from './auth/proxy-auth.guard';
import { BlobsController } from './blobs/blobs.controller';
import { FilesController } from './files/files.controller';
import { FileStreams, GetFileHandler, ListFilesHandler } from './files/file-reads';
import { DropFileHandler, OfferFileHandler } from './files/file-writes';
import { SessionSecret } from './auth/session-secret';
import { SessionsController } from './auth/sessions.controller';
import { UploadSlots } from './auth/upload-slots';
import { BROKER_CONFIG, type BrokerConfig } from './config';
import { HealthController } from './health/health.controller';
import { MetricsController } from './monitoring/metrics.controller';
import { CertificateRegistry } from './pki/certificate-registry';
import { PkiController, PkiEventsController } from './pki/pki.controller';
import { ControlController } from './presence/control.controller';
import { PresenceModule } from './presence/presence.module';
import { ProxyQuotas } from './quotas/proxy-quotas';
import { EventAnswers } from './tasks/event-answers';
import { SignedMessageVerifier } from './tasks/signed-message.verifier';
import { StoreClient } from './tasks/store-client';
import { CreateTaskHandler, PutResultHandler } from './tasks/commands/task-writes';
import { GetTaskHandler, ListResultsHandler, ListTasksHandler, TaskStreams } from './tasks/queries/task-reads';
import { TasksController } from './tasks/tasks.controller';
import { Wakeups } from './tasks/wakeups';
import { ProxyWaitingCap, WaitingProxies } from './tasks/waiting-proxies';
import { ListSocketsHandler } from './sockets/socket-reads';
import { ConnectSocketHandler, LiveSocketHandler, RequestSocketHandler } from './sockets/socket-writes';
import { SocketRelay } from './sockets/socket-relay';
import { SocketHealthController, SocketsController } from './sockets/sockets.controller';
import { apiBuckets } from './storage/api-buckets';
import { StorageMonitor } from './storage/storage-monitor';
import { StorageSetup } from './storage/storage-setup';

/** The ConfigModule of broker-api: its one config, loaded and validated in main.ts, for every provider. */
@Module({})
class BrokerConfigModule {
  static of(config: BrokerConfig): DynamicModule {
    return { module: BrokerConfigModule, global: true, providers: [{ provide: BROKER_CONFIG, useValue: config }], exports: [BROKER_CONFIG] };
  }
}

@Module({})
export class ApiModule {
  /** broker-api, configured by `config`. */
  static forRoot(config: BrokerConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        BrokerConfigModule.of(config),
        NatsModule.forRoot(() => ({ connection: config.nats, name: `broker-api-${process.pid}` })),
        PresenceModule,
        CqrsModule.forRoot(),
      ],
      controllers: [
        HealthController,
        MetricsController,
        PkiController,
        PkiEventsController,
        TasksController,
        BlobsController,
        FilesController,
        ControlController,
        SessionsController,
        SocketsController,
        SocketHealthController,
      ],
      providers: [
        StorageSetup,
        StorageMonitor,
        CertificateRegistry,
        natsProviderWith(NonceStore, BROKER_CONFIG, (nc, c: BrokerConfig) => new NonceStore(nc, apiBuckets.nonces(c))),
        UploadSlots,
        ProxyAuthGuard,
        SessionSecret,
        SignedMessageVerifier,
        StoreClient,
        EventAnswers,
        CreateTaskHandler,
        PutResultHandler,
        ListTasksHandler,
        GetTaskHandler,
        ListResultsHandler,
        OfferFileHandler,
        DropFileHandler,
        ListFilesHandler,
        GetFileHandler,
        FileStreams,
        TaskStreams,
        natsProvider(Notifications, (nc) => new Notifications(nc)),
        natsProvider(BlobStore, (nc) => new BlobStore(nc)),
        Wakeups,
        RequestSocketHandler,
        ConnectSocketHandler,
        LiveSocketHandler,
        ListSocketsHandler,
        natsProvider(RelayChannels, (nc) => new RelayChannels(nc)),
        SocketRelay,
        WaitingProxies,
        ProxyWaitingCap,
        ProxyQuotas,
      ],
    };
  }
}
