/** Shared plumbing of `beamline file <send|list|receive>`: the app's login at its proxy, durations, a byte progress line. */
import type { Readable, Writable } from 'node:stream';
import type { BeamClient } from '@beamline/client';
import { cliEnv } from '../demo-env';
import type { ProgressSink } from '../progress';
import { optionalString, UsageError, type OptionSpec, type ParsedArgs } from './pki-common';

/** What the file commands read and write besides their text output; tests pass their own. */
export interface FileDeps {
  env: Readonly<Record<string, string | undefined>>;
  /** The bytes of `file send -`. */
  stdin: Readable;
  /** Where `file receive` writes without --out. */
  stdout: Writable & { isTTY?: boolean };
  /** The progress line goes here, only when it is a terminal. */
  stderr: ProgressSink;
  /** How often the progress line is redrawn (ms). */
  progressIntervalMs: number;
}

/** The process's own; `process.stdin` is only touched when `file send -` reads it. */
export function processDeps(): FileDeps {
  return {
    env: process.env,
    get stdin() {
      return process.stdin;
    },
    stdout: process.stdout,
    stderr: process.stderr,
    progressIntervalMs: 250,
  };
}

/** The options every file subcommand takes: where the proxy is and which app logs in. */
export const CONNECTION_OPTIONS: OptionSpec = {
  'proxy-url': { type: 'string' },
  'app-id': { type: 'string' },
  'app-key': { type: 'string' },
};

/** The connection options and variables, for every subcommand's help. */
export const CONNECTION_HELP = `
Connection (a flag wins over its environment variable):
  --proxy-url URL        the app's Beam proxy, e.g. http://localhost:8081          ($BEAM_PROXY_URL)
  --app-id ID            the app's full id, e.g. app1.proxy1.broker                ($BEAM_APP_ID)
  --app-key KEY          the app's API key at the proxy (APP_<app>_KEY there)      ($BEAM_APP_KEY)
                         Prefer $BEAM_APP_KEY: other users can see a command line.
  -h, --help             show this help

Environment:
  BEAM_PROXY_URL         the proxy's URL when --proxy-url is not given
  BEAM_APP_ID            the app id when --app-id is not given
  BEAM_APP_KEY           the app's API key when --app-key is not given
`;

/**
 * A client for the app that the flags, else the environment, name. The client library is loaded here, when a
 * file subcommand runs, not when `beamline` starts (every other command goes without it).
 */
export async function clientOf(args: ParsedArgs, deps: FileDeps): Promise<BeamClient> {
  const env = cliEnv(deps.env);
  const setting = (flag: string, variable: string): string => {
    const value = optionalString(args, flag) ?? env[variable];
    if (value === undefined || value === '') throw new UsageError(`--${flag} is required (or $${variable})`);
    return value;
  };
  const proxyUrl = setting('proxy-url', 'BEAM_PROXY_URL');
  const appId = setting('app-id', 'BEAM_APP_ID');
  const appKey = setting('app-key', 'BEAM_APP_KEY');
  const { BeamClient } = await import('@beamline/client');
  try {
    return new BeamClient(appId, appKey, proxyUrl);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** A duration flag (`500ms`, `30s`, `5m`, `1h`) in milliseconds. */
export function durationOption(args: ParsedArgs, name: string): number | undefined {
  const raw = optionalString(args, name);
  if (raw === undefined) return undefined;
  const m = /^(\d{1,9})(ms|s|m|h)$/.exec(raw);
  if (!m) throw new UsageError(`--${name} must be a duration such as 500ms, 30s, 5m or 1h, got ${JSON.stringify(raw)}`);
  return Number(m[1]) * UNITS_MS[m[2]];
}

/** `1.5 MiB` */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * A transfer's progress on stderr, redrawn in place — only on a terminal: a log file or a pipe gets nothing.
 * `sending data.bin: 12.0 MiB of 100.0 MiB (12%), 4.1 MiB/s`
 */
export class ByteProgress {
  private readonly started = Date.now();
  private lastShown = Date.now();
  private shown = false;

  constructor(
    private readonly what: string,
    private readonly total: number | undefined,
    private readonly sink: ProgressSink,
    private readonly intervalMs: number,
  ) {}

  /** `bytes` moved so far; redraws when the interval has passed. */
  update(bytes: number): void {
    if (!this.sink.isTTY) return;
    const now = Date.now();
    if (now - this.lastShown < this.intervalMs) return;
    this.lastShown = now;
    this.shown = true;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const of = this.total !== undefined && this.total > 0 ? ` of ${formatBytes(this.total)} (${Math.floor((bytes / this.total) * 100)}%)` : '';
    this.sink.write(`\r${this.what}: ${formatBytes(bytes)}${of}, ${formatBytes(Math.round(bytes / seconds))}/s\x1b[K`);
  }

  /** Clears the line, so that what follows starts on a clean line. */
  done(): void {
    if (this.shown) this.sink.write('\r\x1b[K');
  }
}
