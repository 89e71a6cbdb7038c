import { loadOrExit } from '@beamline/config';
import { runMain, startHttpApp } from '@beamline/http';
import type { AppRequest } from './auth/api-key.guard';
import { PROXY_DOC, loadProxyConfig } from './config';
import { ProxyModule } from './proxy.module';
import { serveApiDocs } from './openapi/api-docs';

/** proxy: the site's gateway. Apps talk REST to it; it only dials out to the broker. */
runMain(async () => {
  const config = loadOrExit(() => loadProxyConfig(process.env), PROXY_DOC);
  return startHttpApp(ProxyModule.forRoot(config), {
    ...config,
    service: 'proxy',
    beforeListen: serveApiDocs,
    // File uploads stream through the sealing as they arrive; every other body is read whole (72 MiB at most).
    streamedBodies: { matches: (req) => req.method === 'POST' && /^\/v1\/files\/?(\?|$)/.test(req.url ?? ''), limitBytes: config.maxFileBytes },
    callerOf: (req) => ({ app: (req as AppRequest).app_id }),
  });
});
