/**
 * Where one reader's pull requests are answered. Messages wait here until the reader asks for them, so the
 * reader's handler sets the pace; what can wait here is bounded by the one pull request outstanding.
 * Each request gets its own reply subject under the inbox: the server addresses a request's status
 * messages (heartbeats, "request timeout", "message size exceeds max bytes") to it, so a late status of an
 * earlier request is told apart. Data messages arrive under their stream subject.
 */
import { type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';
import { connectionInbox } from './connection';

export type InboxEvent = { msg: Msg } | { silent: true } | { closed: true };

export class PullInbox {
  private readonly prefix: string;
  private readonly queue: Msg[] = [];
  private readonly sub: Subscription;
  private wake: (() => void) | undefined;
  private ended = false;
  private requests = 0;

  constructor(nc: NatsConnection) {
    this.prefix = connectionInbox(nc);
    this.sub = nc.subscribe(`${this.prefix}.*`, {
      callback: (err, msg) => {
        if (err) this.ended = true;
        else this.queue.push(msg);
        this.wake?.();
      },
    });
    void this.sub.closed.then(() => {
      this.ended = true;
      this.wake?.();
    });
  }

  /** A fresh reply subject for the next pull request. */
  nextReplySubject(): string {
    return `${this.prefix}.${++this.requests}`;
  }

  /**
   * The next message; `silent` when none arrives within `silenceMs`; `closed` once the subscription ended
   * (the connection closed) or `signal` aborted.
   */
  async next(silenceMs: number, signal?: AbortSignal): Promise<InboxEvent> {
    for (;;) {
      const msg = this.queue.shift();
      if (msg) return { msg };
      if (this.ended || signal?.aborted) return { closed: true };
      const woken = await this.waitForArrival(silenceMs, signal);
      if (!woken && this.queue.length === 0) return { silent: true };
    }
  }

  close(): void {
    this.ended = true;
    this.sub.unsubscribe();
    this.queue.length = 0;
    this.wake?.();
  }

  private waitForArrival(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (woken: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        this.wake = undefined;
        resolve(woken);
      };
      const onAbort = (): void => done(true);
      const timer = setTimeout(() => done(false), ms);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.wake = () => done(true);
    });
  }
}
