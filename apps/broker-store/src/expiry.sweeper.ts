/**
 * Physical expiry. Logical expiry needs nothing: a task is dead for every query the instant its TTL passes.
 * The sweeper then records TaskExpired (deduplicated per task generation, so several replicas sweeping at
 * once write it once) and purges the aggregate's earlier events, keeping the live log as small as the live
 * work. The purge is bounded by sequence so a task re-created under the same id is never touched.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { expiredTasks, type TaskExpired, type TaskView } from '@beamline/domain';
import { EventLog } from '@beamline/nats';
import { subjects } from '@beamline/nats';
import { loadStoreConfig } from './config';
import { ProjectionService } from './projection.service';

@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Expiry');
  private readonly config = loadStoreConfig();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly done = new Set<string>();

  constructor(@Inject(EventLog) private readonly log: EventLog, private readonly projection: ProjectionService) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.sweepIntervalMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (const task of expiredTasks(this.projection.state, Date.now())) {
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
