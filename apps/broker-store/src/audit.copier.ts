/**
 * Copies every BEAM_EVENTS event, in order, to BEAM_AUDIT under `audit.<subject>`, stamped with its
 * BEAM_EVENTS sequence (the watermark the expiry sweeper waits for before it purges). Only the leader copies;
 * a new leader resumes after the newest copy, and a copy repeated across a hand-over is dropped by the
 * Nats-Msg-Id (`ev-<sequence>`). The copy carries none of the original's expectation headers (see
 * auditStreamConfig for why JetStream's own sourcing cannot be used on nats-server 2.9).
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliverPolicy, jetstream, jetstreamManager, type ConsumerMessages } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { auditWatermark } from '@beamline/audit';
import { AUDIT_ORIGIN_SEQ_HEADER, EVENTS_STREAM, NATS_CONNECTION, subjects } from '@beamline/nats';
import { Leadership } from './leadership';

const IDLE_CHECK_MS = 500;

@Injectable()
export class AuditCopier implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditCopier');
  private stopped = false;
  private messages: ConsumerMessages | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection, private readonly leadership: Leadership) {}

  onApplicationBootstrap(): void {
    void this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.messages?.close().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.leadership.isLeader) {
        try {
          await this.copyWhileLeader();
        } catch (err) {
          if (!this.stopped) this.logger.warn(`copying to BEAM_AUDIT failed, will resume: ${String(err)}`);
        }
      }
      await new Promise((r) => setTimeout(r, IDLE_CHECK_MS));
    }
  }

  private async copyWhileLeader(): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    const js = jetstream(this.nc);
    const watermark = await auditWatermark(jsm);
    if (watermark === undefined) return; // no BEAM_AUDIT (yet): nothing to copy into
    const consumer = await js.consumers.get(EVENTS_STREAM, {
      filter_subjects: subjects.allEvents,
      ...(watermark > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: watermark + 1 } : {}),
    });
    this.messages = await consumer.consume();
    const handOver = setInterval(() => {
      if (!this.leadership.isLeader || this.stopped) void this.messages?.close();
    }, IDLE_CHECK_MS);
    try {
      for await (const m of this.messages) {
        const h = headers();
        h.set(AUDIT_ORIGIN_SEQ_HEADER, String(m.seq));
        await js.publish(subjects.audit(m.subject), m.data, { msgID: `ev-${m.seq}`, headers: h });
      }
    } finally {
      clearInterval(handOver);
    }
  }
}
