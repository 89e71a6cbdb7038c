import { createInbox, credsAuthenticator, type ConnectionOptions, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { natsSettingsOf, type NatsTarget } from './nats-env';

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

/**
 * Opens the process's single NATS connection. It reconnects forever: a broker component outlives a NATS
 * restart rather than exiting, and its health endpoint reports the outage meanwhile. No async stack traces:
 * nats.js would otherwise build two Error objects for every request (a third of broker-api's CPU while it
 * streams a large listing); errors still carry their message and the client's own stack.
 */
export async function connectNats(target: NatsTarget, name: string): Promise<NatsConnection> {
  return connect({
    ...natsConnectOptions(target),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    timeout: 5_000,
    noAsyncTraces: true,
  });
}
