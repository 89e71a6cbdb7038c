import { loadOrExit } from '@beamline/config';
import { runMain, startHttpApp } from '@beamline/http';
import { BROKER_STORE_DOC, loadStoreConfig } from './config';
import { StoreModule } from './store.module';

/**
 * broker-store: the projector. Consumes BEAM_EVENTS, keeps the views, answers queries, drives expiry. Its small
 * HTTP listener (`METRICS_ADDR`) serves only `/v1/health` and `/metrics`; it opens once the views are live.
 */
runMain(async () => {
  const config = loadOrExit(() => loadStoreConfig(process.env), BROKER_STORE_DOC);
  return startHttpApp(StoreModule.forRoot(config), { ...config, service: 'broker-store', bodyLimitBytes: 64 * 1024 });
});
