/** Shared plumbing of the `beamline pki` subcommands: argument parsing, NATS, one-line errors. */
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CA_FILES } from '@beamline/pki';
import { DEFAULT_NATS_URL, loadNatsSettings, withNatsConnection, type ConnectionWork } from '@beamline/nats';
import type { CliIo, Command } from '../command';
import { wantsHelp } from '../command';
import { cliEnv } from '../demo-env';
import { didYouMean } from '../suggest';

export { DEFAULT_NATS_URL };

/** A mistake in how the command was called: exit 2 with one line and a pointer to --help. */
export class UsageError extends Error {}

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface PkiSubcommand {
  name: string;
  summary: string;
  usage: string;
  options: OptionSpec;
  /** How many positional arguments (min, max). */
  positionals: [number, number];
  run(args: ParsedArgs, io: CliIo): Promise<number>;
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parse(sub: PkiSubcommand, args: string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args, options: sub.options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0].split('. To specify')[0];
    const unknown = /^Unknown option '(--?[^']+)'/.exec(message)?.[1];
    const options = Object.keys(sub.options).map((o) => `--${o}`);
    throw new UsageError(unknown ? `unknown option ${unknown}${didYouMean(unknown, options)}` : message);
  }
  const [min, max] = sub.positionals;
  if (parsed.positionals.length < min) throw new UsageError(min === 1 ? 'missing argument' : `expected ${min} arguments`);
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
  return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
}

export function requireString(args: ParsedArgs, name: string): string {
  const v = args.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function optionalString(args: ParsedArgs, name: string): string | undefined {
  const v = args.values[name];
  if (v === '') throw new UsageError(`--${name} must not be empty`);
  return typeof v === 'string' ? v : undefined;
}

export function integerOption(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const raw = args.values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** --nats-url, else $NATS_URL, else the running demo's (.beamline/demo.env), else the local default. */
export function natsUrlOf(args: ParsedArgs): string {
  return optionalString(args, 'nats-url') ?? (cliEnv().NATS_URL || DEFAULT_NATS_URL);
}

/** --ca-dir, else $BEAMLINE_CA_DIR, else the running demo's CA directory; required. */
export function caDirOf(args: ParsedArgs): string {
  const dir = optionalString(args, 'ca-dir') ?? cliEnv().BEAMLINE_CA_DIR;
  if (dir === undefined) throw new UsageError('--ca-dir is required (or $BEAMLINE_CA_DIR, or a running demo)');
  return resolve(dir);
}

/** --root-cert, else the root of --ca-dir, else $ROOTCERT_FILE, else the running demo's root certificate. */
export function rootCertFileOf(args: ParsedArgs): string | undefined {
  const caDir = optionalString(args, 'ca-dir');
  const rootCert = optionalString(args, 'root-cert');
  if (caDir !== undefined && rootCert !== undefined) throw new UsageError('give either --root-cert or --ca-dir, not both');
  return rootCert ?? (caDir ? join(resolve(caDir), CA_FILES.rootCert) : cliEnv().ROOTCERT_FILE);
}

/** The one connection name of every `pki` and `audit` subcommand, as the NATS server lists its clients. */
const CONNECTION_NAME = 'beamline-pki';

/**
 * Runs `work` on a connection of its own to `url`, logged in and over TLS as the NATS_* variables say (the
 * same variables, read by the same code, as broker-api's and broker-store's); an unreachable NATS or a
 * refused login fails the command at once.
 */
export function withNats<T>(url: string, work: ConnectionWork<T>): Promise<T> {
  return withNatsConnection(loadNatsSettings('beamline', cliEnv(), url), CONNECTION_NAME, work);
}

/** The NATS login and TLS variables, for the help of every subcommand that connects (`--nats-url`). */
export const NATS_ENV_HELP = `
NATS login and TLS (environment; as for broker-api and broker-store):
  NATS_URL               NATS server(s) when --nats-url is not given (else the running demo's, from
                         .beamline/demo.env, else ${DEFAULT_NATS_URL})
  NATS_USER              the NATS user to log in as, e.g. beamline-ca (infra/nats/auth.conf)
  NATS_PASSWORD_FILE     a file holding that user's password
  NATS_CREDS             a .creds file (JWT and nkey seed) instead, for servers in operator mode
  NATS_TLS_CA            the CA certificate (PEM) the server's certificate must chain to; set, TLS is required
  NATS_TLS_CERT          a client certificate (PEM) for servers that verify clients, with
  NATS_TLS_KEY           its private key (PEM)
`;

/** A subcommand's help: its usage, and the NATS variables when it connects to NATS. */
export function helpOf(sub: PkiSubcommand): string {
  return 'nats-url' in sub.options ? `${sub.usage}${NATS_ENV_HELP}` : sub.usage;
}

/** An error as one line (no stack): the message of a PkiError, CryptoError or anything else. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim() || String(err);
}

/**
 * A command made of subcommands (`beamline pki …`, `beamline audit …`): dispatch, `help`/`--help`, usage
 * errors (exit 2 with the usage) and failures (exit 1 with one line), the same for every group.
 */
export function commandGroup(name: string, summary: string, usage: string, subcommands: readonly PkiSubcommand[]): Command {
  return {
    name,
    summary,
    usage,
    async run(args: string[], io: CliIo): Promise<number> {
      const [subName, ...rest] = args;
      if (subName === undefined) {
        io.err(`beamline ${name}: a subcommand is required: ${subcommands.map((s) => s.name).join(', ')}\nRun "beamline ${name} --help" for more.\n`);
        return 2;
      }
      if (subName === 'help' || subName === '--help' || subName === '-h') {
        const topic = subcommands.find((s) => s.name === rest[0]);
        io.out(topic ? helpOf(topic) : usage);
        return 0;
      }
      const sub = subcommands.find((s) => s.name === subName);
      if (!sub) {
        const names = subcommands.map((s) => s.name);
        io.err(`beamline ${name}: unknown subcommand "${subName}"${didYouMean(subName, names)}\nRun "beamline ${name} --help" for the subcommands.\n`);
        return 2;
      }
      if (wantsHelp(rest)) {
        io.out(helpOf(sub));
        return 0;
      }
      try {
        return await sub.run(parse(sub, rest), io);
      } catch (err) {
        if (err instanceof UsageError) {
          io.err(`beamline ${name} ${sub.name}: ${err.message}\nRun "beamline ${name} ${sub.name} --help" for its options.\n`);
          return 2;
        }
        io.err(`beamline ${name} ${sub.name}: ${oneLine(err)}\n`);
        return 1;
      }
    },
  };
}
