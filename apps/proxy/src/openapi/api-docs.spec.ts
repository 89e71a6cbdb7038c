import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { openApiProblems } from '../../../../test/support/openapi-check';
import { PROXY_CONFIG } from '../config';
import { ApiKeyGuard } from '../auth/api-key.guard';
import { ProxyIdentity } from '../broker/proxy-identity';
import { ControlConnection } from '../control/control-connection';
import { HealthController } from '../health/health.controller';
import { CertificateDirectory } from '../pki/certificate-directory';
import { SocketMessages } from '../sockets/socket-messages';
import { SocketsController } from '../sockets/sockets.controller';
import { TasksController } from '../tasks/tasks.controller';
import { TasksService } from '../tasks/tasks.service';
import { AppWaitingCap, WaitingApps } from '../tasks/waiting-apps';
import { proxyApiDocument } from './api-docs';

/** The proxy's controllers over stand-ins: enough for the document, which reads only their metadata. */
@Module({
  controllers: [HealthController, TasksController, SocketsController],
  providers: [
    { provide: PROXY_CONFIG, useValue: { apiKeys: new Map(), sseKeepAliveMs: 15_000, socketListWait: 'now', maxWaitingPerApp: 1 } },
    ...[ApiKeyGuard, TasksService, SocketMessages, CertificateDirectory, ControlConnection, ProxyIdentity, WaitingApps, AppWaitingCap].map((provide) => ({
      provide,
      useValue: {},
    })),
  ],
})
class DocumentedRoutes {}

describe('proxyApiDocument', () => {
  it('describes every app route as a valid OpenAPI 3 document', async () => {
    const app = await NestFactory.create(DocumentedRoutes, { logger: false });
    try {
      const doc = proxyApiDocument(app, '0.0.0-test') as unknown as Record<string, unknown>;
      expect(openApiProblems(doc)).toEqual([]);
      const paths = doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>;
      expect(Object.keys(paths['/v1/tasks/{id}/results/{app_id}'].put.responses).sort()).toEqual([
        '201',
        '204',
        '400',
        '401',
        '403',
        '404',
        '413',
        '502',
        '504',
      ]);
      expect(Object.keys(paths['/v1/health'].get.responses).sort()).toEqual(['200', '503']);
    } finally {
      await app.close();
    }
  });
});
