/**
 * Physical expiry. Logical expiry needs nothing: a task is dead for every query the instant its TTL passes.
 * The sweeper then records TaskExpired (deduplicated per task generation, so several replicas sweeping at
 * once write it once) and purges the aggregate's earlier events, keeping the live log as small as the live
 * work. The purge is bounded by sequence so a task re-created under the same id is never touched.
 * Only the expiry leader (one replica, elected through a NATS KV lease) sweeps.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { expiredTasks, type TaskExpired, type TaskView } from '@beamline/domain';
import type { NatsConnection } from '@nats-io/nats-core';
import { EventLog, EXPIRY_LEADER_LEASE, LeaderLease, NATS_CONNECTION, subjects } from '@beamline/nats';
import { loadStoreConfig } from './config';
import { ProjectionService } from './projection.service';

@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Expiry');
  private readonly config = loadStoreConfig();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly done = new Set<string>();

  private readonly lease: LeaderLease;

  constructor(@Inject(EventLog) private readonly log: EventLog, @Inject(NATS_CONNECTION) nc: NatsConnection, private readonly projection: ProjectionService) {
    this.lease = new LeaderLease(nc, EXPIRY_LEADER_LEASE);
  }

  onApplicationBootstrap(): void {
    this.lease.start();
    this.timer = setInterval(() => void this.sweep(), this.config.sweepIntervalMs);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.lease.stop();
  }

  private async sweep(): Promise<void> {
    if (this.running || !this.lease.isLeader) return;
    this.running = true;
    try {
      const expired = expiredTasks(this.projection.state, Date.now());
      const generations = new Set(expired.map((t) => `${t.taskId}-${t.seq}`));
      // Forget generations whose TaskExpired has been applied (the task left the views).
      for (const g of this.done) if (!generations.has(g)) this.done.delete(g);
      for (const task of expired) {
        const generation = `${task.taskId}-${task.seq}`;
        if (this.done.has(generation)) continue;
        await this.expire(task);
        this.done.add(generation);
      }
    } catch (err) {
      this.logger.warn(`sweep failed, will retry: ${String(err)}`);
    } finally {
      this.running = false;
    }
  }

  private async expire(task: TaskView): Promise<void> {
    const lastOwnSeq = Math.max(task.seq, ...[...task.results.values()].map((r) => r.seq));
    const event: TaskExpired = { type: 'TaskExpired', v: 1, taskId: task.taskId, expiredAt: task.expiresAt };
    await this.log.append(subjects.taskExpired(task.taskId), event, { msgId: `expired-${task.taskId}-${task.seq}` });
    await this.log.purge(subjects.taskAggregate(task.taskId), lastOwnSeq + 1);
  }
}
