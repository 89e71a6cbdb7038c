import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ErrorFilter, logLevels, rawBodyParser } from '@beamline/http';
import { proxyConfig } from './config';
import { ProxyModule } from './proxy.module';

/** proxy: the site's gateway. Apps talk REST to it; it only dials out to the broker. */
async function main(): Promise<void> {
  const config = proxyConfig();
  const app = await NestFactory.create<NestExpressApplication>(ProxyModule, { bodyParser: false, logger: logLevels(process.env.LOG_LEVEL) });
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
