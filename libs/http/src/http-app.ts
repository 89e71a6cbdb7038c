import 'reflect-metadata';
import { Logger, type DynamicModule, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import { rawBodyParser } from './body';
import { ErrorFilter } from './error.filter';
import { hardenHttpServer, requireHost, type StreamedBodies } from './http-server';
import { listeningLine } from './listening';
import { countWaiting, observeRequest } from './metrics';
import { resolveLogFormat, type LogFormat } from './log-format';
import { createRootLogger, nestLoggerFor } from './logger';
import { requestLogging, type AccessLine } from './request-log';
import { enableUpgradeLogging } from './upgrade-log';
import { beginShutdown, shutdownSignal } from './shutdown';
import { beamlineVersion, VERSION_HEADER, VersionWatch } from './version';

/**
 * Starts one of Beamline's HTTP apps: raw bodies with a size limit, the shared error mapping, shutdown hooks.
 * Once it listens it prints `listening on http://<host>:<port>` on stdout (see `listeningLine`): the port the
 * OS gave it when `bind.port` is 0.
 */
export interface HttpAppOptions {
  /** `proxy`, `broker-api` or `broker-store`: on every log line, and in the start-up line with the version. */
  service: string;
  bind: { host: string; port: number };
  bodyLimitBytes: number;
  /**
   * 'before-routing' (default): every body is read (up to the limit) before guards run. 'by-guard': none is;
   * the app's guard authenticates the headers first and reads the body itself ({@link readBody}), so an
   * unauthenticated request never has its body buffered.
   */
  bodies?: 'before-routing' | 'by-guard';
  /** After SIGTERM, connections still open this long are closed (`SHUTDOWN_GRACE`, default 10 s). */
  shutdownGraceMs?: number;
  /** `LOG_LEVEL` as the app's configuration parsed it (default info). */
  logLevel?: string;
  /** Runs once the app is set up, before it listens: routes mounted here come before Nest's 404 handler. */
  beforeListen?: (app: NestExpressApplication) => void;
  /** `LOG_FORMAT`; unset: pretty on a terminal, JSON lines otherwise. */
  logFormat?: LogFormat;
  /** Where log lines go (stdout by default; tests). */
  logDestination?: { write(line: string): unknown };
  /** Routes that stream their bodies themselves (skipped by the body parser), with their own limit. */
  streamedBodies?: StreamedBodies;
  /** Who made a request, for its access line (`{ app }`, `{ proxy }`), once the app's guard knows. */
  callerOf?: (req: Request) => Record<string, string | undefined>;
}

const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

export async function startHttpApp(module: Type<unknown> | DynamicModule, opts: HttpAppOptions): Promise<NestExpressApplication> {
  const format = resolveLogFormat(opts.logFormat);
  const root = createRootLogger({ service: opts.service, level: opts.logLevel, format, destination: opts.logDestination });
  const version = beamlineVersion();
  // The start-up and listening lines are written whatever LOG_LEVEL says: whoever started the app reads them.
  const always = root.child({ version }, { level: 'info' });
  always.info({ node: process.version }, `${opts.service} ${version} starting`);
  const app = await NestFactory.create<NestExpressApplication>(module, { bodyParser: false, logger: nestLoggerFor(root) });
  hardenHttpServer(app.getHttpServer(), { bodyLimitBytes: opts.bodyLimitBytes, streamedBodies: opts.streamedBodies });
  const onEnd = peerVersionCheck(opts);
  app.use(requestLogging(root, { callerOf: opts.callerOf, onEnd: (req, _res, line) => onEnd(req, line) }));
  enableUpgradeLogging(app.getHttpServer(), { root, callerOf: opts.callerOf, onEnd });
  app.use((req: Request, res: Response, next: () => void) => {
    res.setHeader(VERSION_HEADER, version);
    res.once('close', countWaiting(req));
    next();
  });
  app.use(requireHost);
  if (opts.bodies !== 'by-guard') {
    const parse = rawBodyParser(opts.bodyLimitBytes);
    const streamed = opts.streamedBodies;
    app.use((req: Request, res: Response, next: NextFunction) => (streamed?.matches(req) ? next() : parse(req, res, next)));
  }
  app.useGlobalFilters(new ErrorFilter());
  app.disable('x-powered-by');
  opts.beforeListen?.(app);
  await app.listen(opts.bind.port, opts.bind.host);
  for (const signal of ['SIGTERM', 'SIGINT'] as const)
    process.once(signal, () => void shutDown(app, signal, opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS));
  const line = listeningLine(app.getHttpServer().address());
  // The line whoever started the app reads its port from: plain on a terminal, a JSON log line otherwise.
  if (format === 'json') always.info(line);
  else (opts.logDestination ?? process.stdout).write(`${line}\n`);
  return app;
}

/** Warns when a caller that says which Beamline it runs (a proxy, at the broker) runs another version. */
function peerVersionCheck(opts: HttpAppOptions): (req: Request, line: AccessLine) => void {
  const watch = new VersionWatch();
  return (req, line) => {
    const theirs = req.headers[VERSION_HEADER];
    if (theirs !== undefined) {
      const caller = Object.entries(opts.callerOf?.(req) ?? {}).find(([, v]) => v !== undefined);
      watch.check(caller ? `${caller[0]} ${caller[1]}` : 'a caller', theirs);
    }
    observeRequest(line);
  };
}

/**
 * Stops taking connections, ends every wait and stream at once (they answer with what exists), gives open
 * requests `graceMs` to finish, then closes the rest and runs the app's shutdown hooks (NATS is drained
 * last, after the last answer that needed it) and exits 0. An orchestrator's kill comes after 30 s.
 */
async function shutDown(app: NestExpressApplication, signal: string, graceMs: number): Promise<void> {
  const logger = new Logger('Shutdown');
  logger.log(`${signal}: answering waiting clients and closing (at most ${graceMs / 1000} s)`);
  beginShutdown();
  const server = app.getHttpServer();
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // A keep-alive connection turns idle as its last answer goes out: close each one then, not after its
  // keep-alive timeout.
  const idle = setInterval(() => server.closeIdleConnections(), 50);
  const grace = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(idle);
  clearTimeout(grace);
  try {
    await app.close();
  } catch (err) {
    logger.warn(`shutdown hooks: ${err instanceof Error ? err.message : String(err)}`);
  }
  logger.log('stopped');
  process.exit(0);
}

/**
 * Runs a long-running service's `main`, and exits 1 with the error's message (a bad setting names its
 * variable) if start-up fails. Once started, a stray error is logged, not fatal: every handler, timer and
 * stream callback is guarded where it is set up, and this is the net under those guards — a broker that
 * exits over one bad message drops every request in flight and every waiting client with it.
 */
export function runMain(main: () => Promise<unknown>): void {
  const logger = new Logger('Process');
  process.on('unhandledRejection', (reason) => logger.error(`unhandled rejection (a bug; the process keeps running): ${describe(reason)}`));
  process.on('uncaughtException', (err) => logger.error(`uncaught exception (a bug; the process keeps running): ${describe(err)}`));
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

/** Aborts when the client goes away before we answered, so whatever waits for it is released at once ... */
export function abortOnClose(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableEnded) controller.abort();
  });
  // ... and when the process shuts down: a wait then ends as a timeout does, with what exists.
  return AbortSignal.any([controller.signal, shutdownSignal]);
}
