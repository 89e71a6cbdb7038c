import { loadOrExit } from '@beamline/config';
import { runMain, startHttpApp } from '@beamline/http';
import { ApiModule } from './api.module';
import type { ProxyRequest } from './auth/proxy-auth.guard';
import { BROKER_API_DOC, loadBrokerConfig } from './config';

/**
 * broker-api: stateless HTTP frontend. Verifies, authorises, appends events; serves reads from broker-store.
 * Bodies are read by ProxyAuthGuard once the headers authenticate, never before.
 */
runMain(async () => {
  const config = loadOrExit(() => loadBrokerConfig(process.env), BROKER_API_DOC);
  return startHttpApp(ApiModule.forRoot(config), {
    ...config,
    service: 'broker-api',
    bodies: 'by-guard',
    callerOf: (req) => ({ proxy: (req as ProxyRequest).proxy?.proxyId }),
  });
});
