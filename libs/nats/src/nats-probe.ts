/** The connection's own health, for health endpoints and for waiters that must re-read after an outage. */
import type { NatsConnection } from '@nats-io/nats-core';

export class NatsProbe {
  constructor(private readonly nc: NatsConnection) {}

  /** True when the connection is open and the server answers a round trip. */
  async reachable(): Promise<boolean> {
    if (this.nc.isClosed()) return false;
    return this.nc.rtt().then(
      () => true,
      () => false,
    );
  }
}
