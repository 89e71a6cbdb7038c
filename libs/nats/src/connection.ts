import {
  AuthorizationError,
  createInbox,
  credsAuthenticator,
  UserAuthenticationExpiredError,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { natsSettingsOf, type NatsTarget } from './nats-env';
import { StartupFailure } from './startup-retry';

/**
 * The one place that turns connection settings into nats.js options: the servers, the login (a .creds file,
 * or user and password) and TLS (CA, client certificate). Every connection of broker-api, broker-store and the
 * CLI is made from these.
 */
export function natsConnectOptions(target: NatsTarget): ConnectionOptions {
  const s = natsSettingsOf(target);
  const login = s.login;
  return {
    servers: s.servers.split(',').map((server) => server.trim()),
    ...(login && 'creds' in login ? { authenticator: credsAuthenticator(login.creds) } : {}),
    ...(login && 'user' in login ? { user: login.user, pass: login.password, inboxPrefix: inboxPrefixOf(login.user) } : {}),
    ...(s.tls ? { tls: { ...s.tls } } : {}),
  };
}

/**
 * Replies (JetStream API answers, store answers, pulled messages) to a logged-in user arrive under
 * `_INBOX.<user>.`, so the server can let each user subscribe to its own replies only (infra/nats/auth.conf):
 * no user reads the answers meant for another.
 */
export function inboxPrefixOf(user: string): string {
  return `_INBOX.${user}`;
}

/** A fresh inbox subject under the connection's own prefix (see {@link inboxPrefixOf}). */
export function connectionInbox(nc: NatsConnection): string {
  // nats.js keeps the options it connected with on the connection; its interface does not declare them.
  const options = (nc as unknown as { options?: ConnectionOptions }).options;
  return createInbox(options?.inboxPrefix);
}

/** Where `target` points, for messages: the servers, never a credential. */
export function natsServersOf(target: NatsTarget): string {
  return natsSettingsOf(target).servers;
}

/** How often "Waiting for NATS at …" is repeated while NATS stays unreachable at start-up. */
export const WAITING_LOG_INTERVAL_MS = 10_000;

/** A first connection that failed: wait and try again, unless the server refused the login (a configuration error). */
function isLoginRefused(err: unknown): boolean {
  return err instanceof AuthorizationError || err instanceof UserAuthenticationExpiredError;
}

/**
 * Opens the process's single NATS connection. Until the first connection succeeds it logs "Waiting for NATS at
 * …" through `log` (at once, then every {@link WAITING_LOG_INTERVAL_MS}) and tries again each second; a refused
 * login fails at once. Once connected it reconnects forever: a broker component outlives a NATS restart rather
 * than exiting, and its health endpoint reports the outage meanwhile. No async stack traces: nats.js would
 * otherwise build two Error objects for every request (a third of broker-api's CPU while it streams a large
 * listing); errors still carry their message and the client's own stack.
 */
export async function connectNats(target: NatsTarget, name: string, log: (line: string) => void = () => undefined): Promise<NatsConnection> {
  const options: ConnectionOptions = {
    ...natsConnectOptions(target),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    timeout: 5_000,
    noAsyncTraces: true,
  };
  let lastLog = -Infinity;
  for (;;) {
    try {
      return await connect(options);
    } catch (err) {
      if (isLoginRefused(err)) throw new StartupFailure(`NATS at ${natsServersOf(target)} refused the login: ${(err as Error).message}`);
      if (Date.now() - lastLog >= WAITING_LOG_INTERVAL_MS) {
        log(`Waiting for NATS at ${natsServersOf(target)} (${(err as Error).message}); retrying every second`);
        lastLog = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}
