/** Owns the process's one NATS connection as a Nest provider: connects on boot, drains on shutdown. */
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from './connection';
import { EventLog } from './event-log';
import { EventReader } from './event-reader';
import { StoreQueries } from './store-queries';

export const NATS_CONNECTION = Symbol('NATS_CONNECTION');

export interface NatsModuleOptions {
  servers: string;
  name: string;
}

@Injectable()
class NatsLifecycle implements OnApplicationShutdown {
  private readonly logger = new Logger('NATS');
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {
    void this.watch();
  }

  private async watch(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect') this.logger.warn(`${s.type} ${'server' in s ? s.server : ''}`);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
  }
}

@Module({})
export class NatsModule {
  static forRoot(options: () => NatsModuleOptions): DynamicModule {
    return {
      module: NatsModule,
      global: true,
      providers: [
        {
          provide: NATS_CONNECTION,
          useFactory: async () => {
            const o = options();
            return connectNats(o.servers, o.name);
          },
        },
        { provide: EventLog, useFactory: (nc: NatsConnection) => new EventLog(nc), inject: [NATS_CONNECTION] },
        { provide: EventReader, useFactory: (nc: NatsConnection) => new EventReader(nc), inject: [NATS_CONNECTION] },
        { provide: StoreQueries, useFactory: (nc: NatsConnection) => new StoreQueries(nc), inject: [NATS_CONNECTION] },
        NatsLifecycle,
      ],
      exports: [NATS_CONNECTION, EventLog, EventReader, StoreQueries],
    };
  }
}
