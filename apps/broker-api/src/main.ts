import { loadOrExit } from '@beamline/config';
import { runMain, startHttpApp } from '@beamline/http';
import { ApiModule } from './api.module';
import { brokerConfig } from './config';

/**
 * broker-api: stateless HTTP frontend. Verifies, authorises, appends events; serves reads from broker-store.
 * Bodies are read by ProxyAuthGuard once the headers authenticate, never before.
 */
runMain(() => startHttpApp(ApiModule, { ...loadOrExit(brokerConfig), bodies: 'by-guard' }));
