/** Owns the process's one NATS connection as a Nest provider: connects on boot, drains on shutdown. */
import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from './connection';
import { NATS_CONNECTION } from './nats-connection-token';
import type { NatsConnectionSettings } from './nats-env';
import { natsProvider } from './nats-provider';
import { NatsProbe } from './nats-probe';
import { StorageProvisioner } from './storage';
import { StreamFollowers } from './stream-followers';
import { Leases } from './leader-lease';
import { StorageGauge } from './storage-gauge';
import { EventLog } from './event-log';
import { EventReader } from './event-reader';
import { StoreQueries } from './store-queries';

export interface NatsModuleOptions {
  /** Servers, login and TLS (nats-env.ts). */
  connection: NatsConnectionSettings;
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
            const logger = new Logger('NATS');
            return connectNats(o.connection, o.name, (line) => logger.warn(line));
          },
        },
        natsProvider(EventLog, (nc) => new EventLog(nc)),
        natsProvider(EventReader, (nc) => new EventReader(nc)),
        natsProvider(StoreQueries, (nc) => new StoreQueries(nc)),
        natsProvider(NatsProbe, (nc) => new NatsProbe(nc)),
        natsProvider(StorageProvisioner, (nc) => new StorageProvisioner(nc)),
        natsProvider(StreamFollowers, (nc) => new StreamFollowers(nc)),
        natsProvider(Leases, (nc) => new Leases(nc)),
        natsProvider(StorageGauge, (nc) => new StorageGauge(nc)),
        NatsLifecycle,
      ],
      exports: [NATS_CONNECTION, EventLog, EventReader, StoreQueries, NatsProbe, StorageProvisioner, StreamFollowers, Leases, StorageGauge],
    };
  }
}
