import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { logLevels, runMain } from '@beamline/http';
import { StoreModule } from './store.module';

/** broker-store: the projector. Consumes BEAM_EVENTS, keeps the views, answers queries, drives expiry. */
async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(StoreModule, { logger: logLevels(process.env.LOG_LEVEL) });
  app.enableShutdownHooks();
}

runMain(main);
