/**
 * How an app gets a NATS port: a Nest provider built from the process's one connection. Apps name the port
 * class and say how to build it; only libs/nats ever holds the connection's type.
 */
import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { NATS_CONNECTION } from './nats-connection-token';

export function natsProvider<T>(port: abstract new (...args: never[]) => T, build: (nc: NatsConnection) => T): FactoryProvider<T> {
  return { provide: port, useFactory: build, inject: [NATS_CONNECTION] };
}

/** The same, for a port that also needs one more provider (e.g. the app's config) to be built. */
export function natsProviderWith<T, D>(
  port: abstract new (...args: never[]) => T,
  dependency: InjectionToken,
  build: (nc: NatsConnection, dep: D) => T,
): FactoryProvider<T> {
  return { provide: port, useFactory: build, inject: [NATS_CONNECTION, dependency] };
}
