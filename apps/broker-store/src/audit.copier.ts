/**
 * While this replica is the leader, copies BEAM_EVENTS to BEAM_AUDIT (@beamline/audit's AuditCopyPipeline:
 * in order, several copies in flight, never a gap). A new leader, or a run after a failed copy, resumes
 * from the watermark it reads then.
 * The copier has a NATS connection of its own (AuditCopySession says why).
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AuditCopySession } from '@beamline/audit';
import { STORE_CONFIG, type StoreConfig } from './config';
import { Leadership } from './leadership';

const IDLE_CHECK_MS = 500;

@Injectable()
export class AuditCopier implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditCopier');
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private readonly session: AuditCopySession;

  constructor(
    private readonly leadership: Leadership,
    @Inject(STORE_CONFIG) config: StoreConfig,
  ) {
    this.session = new AuditCopySession(config.nats, `broker-store-${process.pid}-audit-copier`);
  }

  onApplicationBootstrap(): void {
    this.running = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await this.session.close();
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
    const handedOver = new AbortController();
    const watch = setInterval(() => {
      if (!this.leadership.isLeader || this.stopping.signal.aborted) handedOver.abort();
    }, IDLE_CHECK_MS);
    try {
      await this.session.copyUntil(handedOver.signal, (err) => this.logger.warn(`reading BEAM_EVENTS: ${String(err)}`));
    } finally {
      clearInterval(watch);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
