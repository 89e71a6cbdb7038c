/**
 * The one logger setup of every Beamline service: pino, behind Nest's `Logger` (nestjs-pino), so every
 * `new Logger('Context')` in the code writes through it, with the request id of the request it runs in.
 */
import { Logger as NestPinoLogger, type Params } from 'nestjs-pino';
import { __resetOutOfContextForTests as forgetRootLogger, PinoLogger } from 'nestjs-pino/PinoLogger';
import { pino, stdTimeFunctions, type DestinationStream, type Logger as Pino } from 'pino';
import { prettyLine, resolveLogFormat, type LogFormat } from './log-format';

export interface LogSetup {
  /** `proxy`, `broker-api` or `broker-store`: on every line as `service`. */
  service: string;
  /** `LOG_LEVEL`: error, warn, info (default), debug or trace. */
  level?: string;
  /** `LOG_FORMAT`; unset: pretty on a terminal, JSON lines otherwise. */
  format?: LogFormat;
  /** Where lines go; stdout by default (tests pass their own). */
  destination?: { write(line: string): unknown };
}

/**
 * Never written, wherever they turn up in a logged object: credentials of apps (`ApiKey`), proxies
 * (`BeamlineSig`, `BeamlineMac`) and the monitoring API (Basic), API keys, session secrets and keys.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.cookie',
  'apiKey',
  '*.apiKey',
  'apiKeys',
  '*.apiKeys',
  'sessionSecret',
  '*.sessionSecret',
  'sessionKey',
  '*.sessionKey',
  'wrapped_key',
  '*.wrapped_key',
  'privateKey',
  '*.privateKey',
];

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

export function createRootLogger(setup: LogSetup): Pino {
  const level = LEVELS.has((setup.level ?? 'info').toLowerCase()) ? (setup.level ?? 'info').toLowerCase() : 'info';
  const out = setup.destination ?? process.stdout;
  const destination: DestinationStream =
    resolveLogFormat(setup.format) === 'pretty'
      ? { write: (line: string) => void out.write(prettyLine(line)) }
      : { write: (line: string) => void out.write(line) };
  return pino(
    {
      level,
      base: { service: setup.service, pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    },
    destination,
  );
}

/** Nest's logger interface over `root`, for `NestFactory.create({ logger })`: Nest's own lines go there too. */
export function nestLoggerFor(root: Pino): NestPinoLogger {
  const params: Params = { pinoHttp: { logger: root } };
  // nestjs-pino keeps the first root logger it is given for good (module state); a process runs one app, but
  // a test that starts a second one must see that app's lines where it sent them.
  forgetRootLogger();
  return new NestPinoLogger(new PinoLogger(params), params);
}
