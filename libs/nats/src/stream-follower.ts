/**
 * Follows one stream from its first message (one follower per process, never one per HTTP client) and hands
 * every message to a handler in stream order, through {@link readStream}: pulls bounded by bytes, a new
 * consumer after gaps, missed heartbeats or a NATS restart. A handler may be async; the next pull waits for
 * it, which is what bounds memory. If reading stops for any other reason, the follower starts over from the
 * sequence after the last one it handled.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { readStream } from './stream-reader';

export interface FollowedMessage {
  subject: string;
  seq: number;
  data: Uint8Array;
}

export interface FollowOptions {
  /** Pause before starting over after a failure (default 500 ms). */
  restartDelayMs?: number;
}

export class StreamFollower {
  private lastSeq = 0;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private resolveCaughtUp!: () => void;
  /** Resolves once every message that existed when following began has been handled. */
  readonly caughtUp = new Promise<void>((resolve) => (this.resolveCaughtUp = resolve));

  constructor(
    private readonly source: JetStreamClient | NatsConnection,
    private readonly stream: string,
    private readonly filterSubject: string,
    private readonly handle: (msg: FollowedMessage) => void | Promise<void>,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly options: FollowOptions = {},
  ) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        await this.followOnce(signal);
      } catch (err) {
        if (!signal.aborted) this.onError(err);
      }
      if (!signal.aborted) await new Promise((r) => setTimeout(r, this.options.restartDelayMs ?? 500));
    }
  }

  private async followOnce(signal: AbortSignal): Promise<void> {
    const messages = readStream(this.source, this.stream, {
      filterSubject: this.filterSubject,
      ...(this.lastSeq > 0 ? { startSeq: this.lastSeq + 1 } : {}),
      follow: true,
      signal,
      onCaughtUp: () => this.resolveCaughtUp(),
      onRestart: (err) => this.onError(err),
      restartDelayMs: this.options.restartDelayMs,
    });
    for await (const m of messages) {
      if (m.seq <= this.lastSeq) continue;
      this.lastSeq = m.seq;
      try {
        await this.handle({ subject: m.subject, seq: m.seq, data: m.data });
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
