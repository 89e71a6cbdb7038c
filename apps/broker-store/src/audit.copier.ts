/**
 * While this replica is the leader, copies BEAM_EVENTS to BEAM_AUDIT (@beamline/audit's AuditCopyPipeline:
 * in order, several copies in flight, never a gap). A new leader, or a run after a failed copy, resumes
 * from the watermark it reads then.
 *
 * The copier has a NATS connection of its own: its pulls from BEAM_EVENTS may bring ~32 MiB at a time,
 * like the projection's, and nats-server cuts a connection with more than 64 MiB queued for it; its own
 * connection also keeps ~28.5 MB copies from queueing ahead of query replies.
 */
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { AuditCopyPipeline } from '@beamline/audit';
import { connectNats } from '@beamline/nats';
import { loadStoreConfig } from './config';
import { Leadership } from './leadership';

const IDLE_CHECK_MS = 500;

@Injectable()
export class AuditCopier implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditCopier');
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private nc: NatsConnection | undefined;

  constructor(private readonly leadership: Leadership) {}

  onApplicationBootstrap(): void {
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.running;
    if (this.nc && !this.nc.isClosed()) await this.nc.drain().catch(() => this.nc?.close());
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      if (this.leadership.isLeader) {
        try {
          await this.copyWhileLeader();
        } catch (err) {
          if (!this.stopping.signal.aborted) this.logger.warn(`copying to BEAM_AUDIT failed, will resume: ${String(err)}`);
        }
      }
      await sleep(IDLE_CHECK_MS);
    }
  }

  private async copyWhileLeader(): Promise<void> {
    const nc = await this.connection();
    const handedOver = new AbortController();
    const watch = setInterval(() => {
      if (!this.leadership.isLeader || this.stopping.signal.aborted) handedOver.abort();
    }, IDLE_CHECK_MS);
    try {
      const pipeline = new AuditCopyPipeline(nc, { onReadRestart: (err) => this.logger.warn(`reading BEAM_EVENTS: ${String(err)}`) });
      await pipeline.copyUntil(handedOver.signal); // false: no BEAM_AUDIT yet, nothing to copy into
    } finally {
      clearInterval(watch);
    }
  }

  private async connection(): Promise<NatsConnection> {
    this.nc ??= await connectNats(loadStoreConfig().natsUrl, `broker-store-${process.pid}-audit-copier`);
    return this.nc;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
