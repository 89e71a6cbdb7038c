/**
 * The variables that say where NATS is and how to log in to it, shared by broker-api, broker-store and the
 * CLI: `NATS_URL`; a login, either `NATS_CREDS` (a .creds file: JWT and nkey seed) or `NATS_USER` with
 * `NATS_PASSWORD_FILE`; and TLS, `NATS_TLS_CA` (the CA that signed the server's certificate; setting it
 * makes TLS required) with, for servers that verify clients, `NATS_TLS_CERT` and `NATS_TLS_KEY`. Secrets
 * come from files, never from the variables themselves. Files are read once, at start-up, so a missing one
 * stops the component (exit 2) rather than its first reconnect.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseEnvChecked, setting, type ConfigProblems } from '@beamline/config';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

const SERVER = /^(?:(?:nats|tls):\/\/)?(?:[^\s:/@]+(?::[^\s:/@]*)?@)?(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/**
 * NATS servers, comma-separated: `nats://host:port`, `tls://host:port` or `host:port`, each with its port;
 * never an HTTP URL, and not `ws://` (the Node client speaks the NATS protocol over TCP only).
 */
export function parseNatsServers(raw: string): string {
  const servers = raw.split(',').map((s) => s.trim());
  for (const server of servers) checkNatsServer(server);
  return servers.join(',');
}

function checkNatsServer(server: string): void {
  const expected = `expected nats://host:port (comma-separated for several), got ${JSON.stringify(server)}`;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(server)?.[1].toLowerCase();
  if (scheme === 'ws' || scheme === 'wss') throw new Error(`${expected}: WebSocket URLs are not supported (the Node client speaks NATS over TCP)`);
  if (!SERVER.test(server)) throw new Error(expected);
  const url = new URL(scheme ? server : `nats://${server}`);
  if (url.port === '') throw new Error(`${expected}: the port is missing (NATS listens on 4222 by default)`);
}

/** How a component logs in to NATS; none: the server must allow anonymous clients (the dev server does). */
export type NatsLogin = { creds: Uint8Array } | { user: string; password: string };

/** TLS towards NATS: PEM texts. Any of them makes the connection require TLS. */
export interface NatsTls {
  /** The CA certificate(s) the server's certificate must chain to (default: the system's CAs). */
  ca?: string;
  /** A client certificate and its key, for servers that verify clients (`tls { verify: true }`). */
  cert?: string;
  key?: string;
}

/** Everything needed to connect: what libs/nats' connections take (connection.ts, one-shot-connection.ts). */
export interface NatsConnectionSettings {
  /** Comma-separated, as `NATS_URL`. */
  servers: string;
  login?: NatsLogin;
  tls?: NatsTls;
}

/** A connection target: settings, or just the servers (no login, no TLS unless a `tls://` URL asks for it). */
export type NatsTarget = string | NatsConnectionSettings;

export function natsSettingsOf(target: NatsTarget): NatsConnectionSettings {
  return typeof target === 'string' ? { servers: target } : target;
}

/** A file's contents, or an error saying which file could not be read and why. */
function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

function readPem(what: string): (path: string) => string {
  return (path) => {
    const text = readText(path);
    if (!text.includes('-----BEGIN ')) throw new Error(`${path} holds no PEM ${what}`);
    return text;
  };
}

/** A password file holds the password; a trailing newline (as `echo` writes it) is not part of it. */
function readPassword(path: string): string {
  const password = readText(path).replace(/\r?\n$/, '');
  if (password === '') throw new Error(`${path} is empty`);
  return password;
}

export const natsEnv = {
  NATS_URL: setting.text(DEFAULT_NATS_URL, 'NATS servers, comma-separated (`nats://host:port`)', parseNatsServers),
  NATS_CREDS: setting.optionalText('a NATS credentials file (JWT and nkey seed, `.creds`) to log in with, for servers in operator (JWT) mode', readText),
  NATS_USER: setting.optionalText('the NATS user to log in as (with `NATS_PASSWORD_FILE`), e.g. `broker-api` in `infra/nats/auth.conf`'),
  NATS_PASSWORD_FILE: setting.optionalText("a file holding `NATS_USER`'s password (a trailing newline is ignored)", readPassword),
  NATS_TLS_CA: setting.optionalText(
    "the CA certificate (PEM file) NATS servers' certificates must chain to; set, TLS is required",
    readPem('certificate'),
    "unset: TLS only if the server asks for it, checked against the system's CAs",
  ),
  NATS_TLS_CERT: setting.optionalText(
    'a client certificate (PEM file) for NATS servers that verify clients (`tls { verify: true }`); with `NATS_TLS_KEY`',
    readPem('certificate'),
  ),
  NATS_TLS_KEY: setting.optionalText('the private key (PEM file) of `NATS_TLS_CERT`', readPem('private key')),
};

const natsEnvSchema = z.object(natsEnv);
type NatsEnvValues = z.output<typeof natsEnvSchema>;

/**
 * Checks of variables that only make sense together, on the raw environment (so they are reported with every
 * other problem, before parsing): a user needs a password file and the reverse; `NATS_CREDS` is a login of its
 * own; a client certificate needs its key and the reverse.
 */
export function checkNatsEnvPairs(env: Readonly<Record<string, string | undefined>>, problems: ConfigProblems): void {
  const set = (name: string): boolean => Boolean(env[name]);
  problems.check('NATS_USER', () => {
    if (set('NATS_USER') && !set('NATS_PASSWORD_FILE')) throw new Error('NATS_PASSWORD_FILE: required with NATS_USER');
  });
  problems.check('NATS_PASSWORD_FILE', () => {
    if (set('NATS_PASSWORD_FILE') && !set('NATS_USER')) throw new Error('NATS_USER: required with NATS_PASSWORD_FILE');
  });
  problems.check('NATS_CREDS', () => {
    if (set('NATS_CREDS') && set('NATS_USER')) throw new Error('NATS_CREDS: set either NATS_CREDS or NATS_USER, not both');
  });
  problems.check('NATS_TLS_CERT', () => {
    if (set('NATS_TLS_CERT') !== set('NATS_TLS_KEY')) throw new Error('NATS_TLS_CERT: NATS_TLS_CERT and NATS_TLS_KEY go together');
  });
}

/** The connection settings from the parsed variables (after {@link checkNatsEnvPairs}). */
export function natsSettingsFrom(v: NatsEnvValues): NatsConnectionSettings {
  const login: NatsLogin | undefined = v.NATS_CREDS
    ? { creds: new TextEncoder().encode(v.NATS_CREDS) }
    : v.NATS_USER && v.NATS_PASSWORD_FILE
      ? { user: v.NATS_USER, password: v.NATS_PASSWORD_FILE }
      : undefined;
  const tls: NatsTls = { ca: v.NATS_TLS_CA, cert: v.NATS_TLS_CERT, key: v.NATS_TLS_KEY };
  const anyTls = Object.values(tls).some((x) => x !== undefined);
  return { servers: v.NATS_URL, ...(login ? { login } : {}), ...(anyTls ? { tls } : {}) };
}

/**
 * The connection settings of a tool that has no configuration of its own (the CLI): the NATS variables of
 * `env`, with `servers` (a `--nats-url`) taking the place of `NATS_URL` when given. Throws ConfigError naming
 * every bad variable.
 */
export function loadNatsSettings(component: string, env: Readonly<Record<string, string | undefined>>, servers?: string): NatsConnectionSettings {
  const effective = servers === undefined ? env : { ...env, NATS_URL: servers };
  return natsSettingsFrom(parseEnvChecked(component, natsEnvSchema, effective, (problems) => checkNatsEnvPairs(effective, problems)));
}
