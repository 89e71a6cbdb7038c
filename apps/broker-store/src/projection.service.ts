/**
 * Applies the event log, in stream order, to the in-memory views. A replica that restarts rebuilds them
 * by replaying BEAM_EVENTS from the start (expired tasks are purged, so the replay is as small as the
 * live work).
 */
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { applyEvent, emptyProjection, parseLogEvent, type ProjectionState } from '@beamline/domain';
import { decodeJson, EVENTS_STREAM, StreamFollowers, subjects, type FollowedMessage, type StreamFollower } from '@beamline/nats';

interface SeqWaiter {
  seq: number;
  resolve: (caughtUp: boolean) => void;
}

@Injectable()
export class ProjectionService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projection');
  readonly state: ProjectionState = emptyProjection();
  private follower: StreamFollower | undefined;
  private waiters: SeqWaiter[] = [];
  private markReady!: () => void;
  /** Resolves once the replay of the log at start-up is complete; queries are answered only after it. */
  readonly ready = new Promise<void>((resolve) => (this.markReady = resolve));
  /** True once the replay at start-up is complete: before, the views name only part of what is live. */
  caughtUp = false;

  constructor(private readonly followers: StreamFollowers) {}

  /** BEAM_EVENTS exists by now: StorageSetup creates it in onModuleInit, before any bootstrap hook. */
  async onApplicationBootstrap(): Promise<void> {
    this.follower = this.followers.follow(
      EVENTS_STREAM,
      subjects.allEvents,
      (m) => this.apply(m),
      (err) => this.logger.warn(`event stream: ${String(err)}`),
    );
    this.follower.start();
    await this.follower.caughtUp;
    this.caughtUp = true;
    this.markReady();
    this.logger.log(`caught up at sequence ${this.state.lastSeq} with ${this.state.tasks.size} live tasks`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower?.stop();
  }

  get lastSeq(): number {
    return this.state.lastSeq;
  }

  /** Resolves true once the views include stream sequence `seq`, false if that takes longer than `timeoutMs`. */
  waitFor(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.state.lastSeq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter: SeqWaiter = { seq, resolve };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      waiter.resolve = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.waiters.push(waiter);
    });
  }

  private apply(msg: FollowedMessage): void {
    try {
      applyEvent(this.state, parseLogEvent(decodeJson(msg.data)), msg.seq, msg.data.length);
    } catch (err) {
      // A malformed event must not stop the projection; it stays in the log for audit.
      this.logger.warn(`skipping unreadable event #${msg.seq} on ${msg.subject}: ${String(err)}`);
    }
    this.state.lastSeq = Math.max(this.state.lastSeq, msg.seq);
    if (this.waiters.length > 0) this.releaseWaiters();
  }

  private releaseWaiters(): void {
    const ready = this.waiters.filter((w) => w.seq <= this.state.lastSeq);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => w.seq > this.state.lastSeq);
    for (const w of ready) w.resolve(true);
  }
}
