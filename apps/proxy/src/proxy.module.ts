import { Module } from '@nestjs/common';
import { ApiKeyGuard } from './auth/api-key.guard';
import { BrokerClient } from './broker/broker-client';
import { BrokerSession } from './broker/broker-session';
import { ProxyIdentity } from './broker/proxy-identity';
import { ControlConnection } from './control/control-connection';
import { HealthController } from './health/health.controller';
import { CertificateDirectory } from './pki/certificate-directory';
import { Messages } from './tasks/messages';
import { TasksController } from './tasks/tasks.controller';
import { TasksService } from './tasks/tasks.service';
import { AppWaitingCap, WaitingApps } from './tasks/waiting-apps';
import { SocketMessages } from './sockets/socket-messages';
import { SocketUpgrades } from './sockets/socket-upgrades';
import { SocketsController } from './sockets/sockets.controller';

@Module({
  controllers: [HealthController, TasksController, SocketsController],
  providers: [
    ApiKeyGuard,
    BrokerClient,
    BrokerSession,
    ProxyIdentity,
    CertificateDirectory,
    Messages,
    TasksService,
    ControlConnection,
    SocketMessages,
    SocketUpgrades,
    WaitingApps,
    AppWaitingCap,
  ],
})
export class ProxyModule {}
