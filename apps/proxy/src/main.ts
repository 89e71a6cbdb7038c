import { loadOrExit } from '@beamline/config';
import { runMain, startHttpApp } from '@beamline/http';
import { proxyConfig } from './config';
import { ProxyModule } from './proxy.module';

/** proxy: the site's gateway. Apps talk REST to it; it only dials out to the broker. */
runMain(() => startHttpApp(ProxyModule, loadOrExit(proxyConfig)));
