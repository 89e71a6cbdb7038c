/**
 * Connections for one-off tools such as the CLI. Unlike connectNats (connection.ts), which reconnects forever
 * because a broker component outlives a NATS restart, a tool makes one attempt and reports an unreachable NATS
 * at once.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { natsConnectOptions, natsServersOf } from './connection';
import type { NatsTarget } from './nats-env';

/** Work done on a one-shot connection: it builds the ports it needs from it (PkiLog, the audit reader, …). */
export type ConnectionWork<T> = (nc: NatsConnection) => Promise<T>;

/** One connection attempt (5 s), no reconnect loop: a CLI must fail fast when NATS is unreachable. */
export async function connectOnce(target: NatsTarget, name: string): Promise<NatsConnection> {
  try {
    return await connect({ ...natsConnectOptions(target), name, timeout: 5_000, maxReconnectAttempts: 0 });
  } catch (err) {
    throw new Error(`cannot connect to NATS at ${natsServersOf(target)}: ${(err as Error).message}`);
  }
}

/** Runs `work` on a connection of its own, closed afterwards whether it succeeded or failed. */
export async function withNatsConnection<T>(target: NatsTarget, name: string, work: ConnectionWork<T>): Promise<T> {
  const nc = await connectOnce(target, name);
  try {
    return await work(nc);
  } finally {
    // A failing close must not hide the work's result or its error.
    await nc.close().catch(() => undefined);
  }
}
