/** How far BEAM_AUDIT has copied BEAM_EVENTS, as a port: what the expiry sweeper checks before it purges. */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { auditWatermark } from './source-watermark';

export class AuditProgress {
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(private readonly nc: NatsConnection) {}

  /** The highest BEAM_EVENTS sequence BEAM_AUDIT holds a copy of (and every one before it); undefined without BEAM_AUDIT. */
  async watermark(): Promise<number | undefined> {
    this.jsm ??= jetstreamManager(this.nc);
    const jsm = await this.jsm.catch((err: unknown) => {
      this.jsm = undefined;
      throw err;
    });
    return auditWatermark(jsm);
  }
}
