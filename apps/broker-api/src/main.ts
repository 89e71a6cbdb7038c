import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ErrorFilter, logLevels, rawBodyParser } from '@beamline/http';
import { ApiModule } from './api.module';
import { brokerConfig } from './config';

/** broker-api: stateless HTTP frontend. Verifies, authorises, appends events; serves reads from broker-store. */
async function main(): Promise<void> {
  const config = brokerConfig();
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, { bodyParser: false, logger: logLevels(process.env.LOG_LEVEL) });
  app.use(rawBodyParser(config.bodyLimitBytes));
  app.useGlobalFilters(new ErrorFilter());
  app.disable('x-powered-by');
  app.enableShutdownHooks();
  await app.listen(config.bind.port, config.bind.host);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
