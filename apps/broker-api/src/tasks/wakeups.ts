/**
 * One core-NATS subscription per process for all notifications, fanned out in memory to waiting long-polls
 * and SSE streams. A waiter that goes away removes its listener; nothing per client lives in NATS.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { Notifications, type NotificationSubscription } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

export type WakeListener = (seq: number) => void;

@Injectable()
export class Wakeups implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly listeners = new Map<string, Set<WakeListener>>();
  private sub: NotificationSubscription | undefined;
  private highest = 0;
  private readonly logger = new Logger('Wakeups');

  /** How long a waiter goes without re-reading when no notification wakes it (WAKE_RECHECK). */
  readonly recheckMs: number;

  constructor(
    private readonly notifications: Notifications,
    @Inject(BROKER_CONFIG) config: BrokerConfig,
  ) {
    this.recheckMs = config.wakeRecheckMs;
  }

  onApplicationBootstrap(): void {
    this.sub = this.notifications.subscribe({
      notified: (subject, seq) => {
        const set = this.listeners.get(subject);
        if (!set) return;
        this.highest = Math.max(this.highest, seq);
        for (const l of [...set]) l(seq);
      },
      reconnected: () => this.wakeAll(),
      failed: (message) => this.logger.warn(message),
    });
  }

  /** Notifications sent while we were reconnecting are lost: wake every waiter to re-read once. */
  private wakeAll(): void {
    for (const set of [...this.listeners.values()]) for (const l of [...set]) l(0);
  }

  onApplicationShutdown(): void {
    this.sub?.close();
  }

  /** Calls `listener` for every notification on any of `subjectList` until the returned function is called. */
  listen(subjectList: string[], listener: WakeListener): () => void {
    for (const s of subjectList) {
      let set = this.listeners.get(s);
      if (!set) this.listeners.set(s, (set = new Set()));
      set.add(listener);
    }
    return () => {
      for (const s of subjectList) {
        const set = this.listeners.get(s);
        set?.delete(listener);
        if (set?.size === 0) this.listeners.delete(s);
      }
    };
  }

  /** Live listeners, i.e. waiting long-polls and SSE streams (health, metrics, leak tests). */
  get waiting(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /**
   * The newest stream sequence this process wrote or heard of. Reads ask the store for at least this much,
   * so a write acknowledged by any replica is visible to the next read here (read-your-writes).
   */
  get newestSeq(): number {
    return this.highest;
  }

  notify(subjectList: string[], seq: number): void {
    this.highest = Math.max(this.highest, seq);
    this.notifications.publish(subjectList, seq);
  }
}
