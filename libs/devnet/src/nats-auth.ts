/**
 * NATS with logins and TLS for the dev network and tests: the users and permissions of the shipped
 * `infra/nats/auth.conf` (read from the repository, so tests exercise exactly what is deployed), random
 * passwords handed to nats-server through its environment, and a test CA (nats-tls.ts) for TLS on the client
 * port with client certificates required.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { NatsConnectionSettings } from '@beamline/nats';
import { makeNatsTls, type NatsTlsFiles } from './nats-tls';

/** The users of infra/nats/auth.conf. */
export const NATS_USERS = ['broker-api', 'broker-store', 'beamline-ca', 'beamline-audit'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

/** The nats-server environment variable auth.conf takes each user's password from. */
export const NATS_PASSWORD_VARIABLES: Readonly<Record<NatsUser, string>> = {
  'broker-api': 'BEAMLINE_NATS_BROKER_API_PASSWORD',
  'broker-store': 'BEAMLINE_NATS_BROKER_STORE_PASSWORD',
  'beamline-ca': 'BEAMLINE_NATS_CA_PASSWORD',
  'beamline-audit': 'BEAMLINE_NATS_AUDIT_PASSWORD',
};

/** Everything a secured dev server and its clients need; made by {@link makeDevNatsSecurity}. */
export interface DevNatsSecurity {
  tls: NatsTlsFiles;
  passwords: Readonly<Record<NatsUser, string>>;
  /** `<dir>/<user>.password` (0600): what NATS_PASSWORD_FILE points at. */
  passwordFiles: Readonly<Record<NatsUser, string>>;
}

/** `infra/nats/auth.conf` of this repository (found from here in the sources and in dist/ alike). */
export function authConfPath(): string {
  for (let dir = __dirname, i = 0; i < 6; i++, dir = dirname(dir)) {
    const candidate = join(dir, 'infra', 'nats', 'auth.conf');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`infra/nats/auth.conf not found above ${__dirname}`);
}

/** A test CA, server and client certificates (one per user), and a random password per user, in `dir`. */
export function makeDevNatsSecurity(dir: string): DevNatsSecurity {
  const tls = makeNatsTls(join(dir, 'tls'), { clients: [...NATS_USERS] });
  const passwords = {} as Record<NatsUser, string>;
  const passwordFiles = {} as Record<NatsUser, string>;
  for (const user of NATS_USERS) {
    // A letter first: nats-server reads a password from its environment as a config value, and one that starts
    // with a digit or '-' (e.g. '2024-…', '12e4…') is taken for a number or a date and stops it from starting.
    passwords[user] = `p${randomBytes(24).toString('base64url')}`;
    passwordFiles[user] = join(dir, `${user}.password`);
    writeFileSync(passwordFiles[user], `${passwords[user]}\n`, { mode: 0o600 });
  }
  return { tls, passwords, passwordFiles };
}

/** The part of a nats-server config that switches TLS (client certificates required) and the logins on. */
export function natsSecurityConfig(sec: DevNatsSecurity): string {
  return [
    'tls {',
    `  cert_file: ${JSON.stringify(sec.tls.serverCertFile)}`,
    `  key_file: ${JSON.stringify(sec.tls.serverKeyFile)}`,
    `  ca_file: ${JSON.stringify(sec.tls.caCertFile)}`,
    '  verify: true',
    '  timeout: 5',
    '}',
    `# ${authConfPath()}, as shipped:`,
    readFileSync(authConfPath(), 'utf8'),
  ].join('\n');
}

/** What nats-server needs in its environment for auth.conf: each user's password. */
export function natsServerEnv(sec: DevNatsSecurity): Record<string, string> {
  return Object.fromEntries(NATS_USERS.map((user) => [NATS_PASSWORD_VARIABLES[user], sec.passwords[user]]));
}

/** The NATS_* variables of a process that logs in as `user` (its own client certificate, the test CA). */
export function natsClientEnv(sec: DevNatsSecurity, user: NatsUser, natsUrl: string): Record<string, string> {
  return {
    NATS_URL: natsUrl,
    NATS_USER: user,
    NATS_PASSWORD_FILE: sec.passwordFiles[user],
    NATS_TLS_CA: sec.tls.caCertFile,
    NATS_TLS_CERT: sec.tls.clients[user].certFile,
    NATS_TLS_KEY: sec.tls.clients[user].keyFile,
  };
}

/** The same, as connection settings for a connection made in this process (a test). */
export function natsClientSettings(sec: DevNatsSecurity, user: NatsUser, natsUrl: string): NatsConnectionSettings {
  const client = sec.tls.clients[user];
  return {
    servers: natsUrl,
    login: { user, password: sec.passwords[user] },
    tls: { ca: readFileSync(sec.tls.caCertFile, 'utf8'), cert: readFileSync(client.certFile, 'utf8'), key: readFileSync(client.keyFile, 'utf8') },
  };
}
