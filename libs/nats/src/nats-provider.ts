/**
 * How an app gets a NATS port: a Nest provider built from the process's one connection. Apps name the port
 * class and say how to build it; only libs/nats ever holds the connection's type.
 */
import type { FactoryProvider } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { NATS_CONNECTION } from './nats-connection-token';

export function natsProvider<T>(port: abstract new (...args: never[]) => T, build: (nc: NatsConnection) => T): FactoryProvider<T> {
  return { provide: port, useFactory: build, inject: [NATS_CONNECTION] };
}
