/**
 * One core-NATS subscription per process for all notifications, fanned out in memory to waiting long-polls
 * and SSE streams. A waiter that goes away removes its listener; nothing per client lives in NATS.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { decodeJson, encodeJson, NATS_CONNECTION, safeCallback, subjects } from '@beamline/nats';

export type WakeListener = (seq: number) => void;

@Injectable()
export class Wakeups implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly listeners = new Map<string, Set<WakeListener>>();
  private sub: Subscription | undefined;
  private highest = 0;
  private readonly logger = new Logger('Wakeups');

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  onApplicationBootstrap(): void {
    void this.wakeAllAfterReconnects();
    this.sub = this.nc.subscribe(subjects.allNotifications, {
      callback: safeCallback(
        'notification',
        (message) => this.logger.warn(message),
        (msg) => {
          const set = this.listeners.get(msg.subject);
          if (!set) return;
          const seq = seqOf(msg.data);
          this.highest = Math.max(this.highest, seq);
          for (const l of [...set]) l(seq);
        },
      ),
    });
  }

  /** Notifications sent while we were reconnecting are lost: wake every waiter to re-read once. */
  private async wakeAllAfterReconnects(): Promise<void> {
    for await (const s of this.nc.status()) {
      if (s.type !== 'reconnect') continue;
      for (const set of [...this.listeners.values()]) for (const l of [...set]) l(0);
    }
  }

  onApplicationShutdown(): void {
    this.sub?.unsubscribe();
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
  get highestSeq(): number {
    return this.highest;
  }

  notify(subjectList: string[], seq: number): void {
    this.highest = Math.max(this.highest, seq);
    const data = encodeJson({ seq });
    for (const s of subjectList) this.nc.publish(s, data);
  }
}

/** The sequence a notification announces; 0 (wake, but promise nothing) when it is not a readable one. */
function seqOf(data: Uint8Array): number {
  try {
    const seq = (decodeJson(data) as { seq?: unknown } | null)?.seq;
    return typeof seq === 'number' && Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
  } catch {
    return 0;
  }
}
