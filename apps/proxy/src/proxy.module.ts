import { Module, type DynamicModule } from '@nestjs/common';
import { PROXY_CONFIG, type ProxyConfig } from './config';
import { ApiKeyGuard } from './auth/api-key.guard';
import { BrokerClient } from './broker/broker-client';
import { BrokerSession } from './broker/broker-session';
import { Egress } from './broker/egress';
import { ProxyIdentity } from './broker/proxy-identity';
import { ControlConnection } from './control/control-connection';
import { HealthController } from './health/health.controller';
import { MetricsController } from './health/metrics.controller';
import { CertificateDirectory } from './pki/certificate-directory';
import { Messages } from './tasks/messages';
import { BodyBlobs } from './tasks/body-blobs';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';
import { AppWaitingCap, WaitingApps } from './tasks/waiting-apps';
import { SocketMessages } from './sockets/socket-messages';
import { SocketUpgrades } from './sockets/socket-upgrades';
import { SocketsController } from './sockets/sockets.controller';
import { FileOffers } from './files/file-offers';
import { FilesController } from './files/files.controller';
import { FilesService } from './files/files.service';

@Module({})
export class ProxyModule {
  /** The proxy, configured by `config` (loaded and validated once, in main.ts). */
  static forRoot(config: ProxyConfig): DynamicModule {
    return {
      module: ProxyModule,
      controllers: [HealthController, MetricsController, TasksController, SocketsController, FilesController],
      providers: [
        { provide: PROXY_CONFIG, useValue: config },
        ApiKeyGuard,
        BrokerClient,
        BrokerSession,
        Egress,
        ProxyIdentity,
        CertificateDirectory,
        Messages,
        BodyBlobs,
        FileOffers,
        FilesService,
        TasksService,
        ControlConnection,
        SocketMessages,
        SocketUpgrades,
        WaitingApps,
        AppWaitingCap,
      ],
    };
  }
}
