/**
 * Core-NATS wake-ups (`subjects.notify*`), published after an acknowledged append; never a source of truth.
 * A process holds one subscription to all of them and fans them out in memory.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { decodeJson, encodeJson } from './codec';
import { safeCallback } from './safe-callback';
import { subjects } from './subjects';

export interface NotificationHandlers {
  /** A notification on `subject` announcing stream sequence `seq` (0: wake, but it promises nothing). */
  notified: (subject: string, seq: number) => void;
  /** The connection is back after an outage; notifications sent meanwhile are lost. */
  reconnected: () => void;
  /** `notified` threw or the subscription failed; the subscription goes on. */
  failed: (message: string) => void;
}

/**
 * One subscription to every notification and to reconnects. After `close` neither is reported; the status
 * iterator itself is let go at the connection's next status change (it cannot be woken before).
 */
export interface NotificationSubscription {
  close(): void;
}

export class Notifications {
  constructor(private readonly nc: NatsConnection) {}

  subscribe(handlers: NotificationHandlers): NotificationSubscription {
    let closed = false;
    void this.watchReconnects(handlers.reconnected, () => closed);
    const sub: Subscription = this.nc.subscribe(subjects.allNotifications, {
      callback: safeCallback('notification', handlers.failed, (msg) => handlers.notified(msg.subject, seqOf(msg.data))),
    });
    return {
      close: () => {
        closed = true;
        sub.unsubscribe();
      },
    };
  }

  /** Announces `seq` on every subject of `subjectList`. */
  publish(subjectList: string[], seq: number): void {
    const data = encodeJson({ seq });
    for (const s of subjectList) this.nc.publish(s, data);
  }

  private async watchReconnects(reconnected: () => void, closed: () => boolean): Promise<void> {
    for await (const s of this.nc.status()) {
      if (closed()) break;
      if (s.type !== 'reconnect') continue;
      reconnected();
    }
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
