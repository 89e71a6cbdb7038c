import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';

/**
 * Opens the process's single NATS connection. It reconnects forever: a broker component outlives a NATS
 * restart rather than exiting, and its health endpoint reports the outage meanwhile. No async stack traces:
 * nats.js would otherwise build two Error objects for every request (a third of broker-api's CPU while it
 * streams a large listing); errors still carry their message and the client's own stack.
 */
export async function connectNats(servers: string, name: string): Promise<NatsConnection> {
  return connect({
    servers: servers.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    timeout: 5_000,
    noAsyncTraces: true,
  });
}
