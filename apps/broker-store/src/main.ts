import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadOrExit } from '@beamline/config';
import { logLevels, runMain } from '@beamline/http';
import { BROKER_STORE_DOC, loadStoreConfig } from './config';
import { StoreModule } from './store.module';

/** broker-store: the projector. Consumes BEAM_EVENTS, keeps the views, answers queries, drives expiry. */
async function main(): Promise<void> {
  const config = loadOrExit(() => loadStoreConfig(process.env), BROKER_STORE_DOC);
  const app = await NestFactory.createApplicationContext(StoreModule.forRoot(config), { logger: logLevels(config.logLevel) });
  app.enableShutdownHooks();
}

runMain(main);
