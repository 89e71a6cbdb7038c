/**
 * Follows one stream from its first message with an ordered consumer (one per process, never one per
 * HTTP client) and hands every message to a handler in stream order. The ordered consumer recreates itself
 * after gaps or a NATS restart; if consuming stops for any other reason, the follower starts over from the
 * sequence after the last one it handled.
 */
import { DeliverPolicy, type JetStreamClient, type ConsumerMessages } from '@nats-io/jetstream';

export interface FollowedMessage {
  subject: string;
  seq: number;
  data: Uint8Array;
}

export class StreamFollower {
  private lastSeq = 0;
  private messages: ConsumerMessages | undefined;
  private stopped = false;
  private resolveCaughtUp!: () => void;
  /** Resolves once every message that existed when following began has been handled. */
  readonly caughtUp = new Promise<void>((resolve) => (this.resolveCaughtUp = resolve));

  constructor(
    private readonly js: JetStreamClient,
    private readonly stream: string,
    private readonly filterSubject: string,
    private readonly handle: (msg: FollowedMessage) => void,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(): void {
    void this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.consumeOnce();
      } catch (err) {
        if (!this.stopped) this.onError(err);
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 500));
    }
  }

  private async consumeOnce(): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: this.filterSubject,
      ...(this.lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 } : {}),
    });
    const info = await consumer.info(true);
    if (info.num_pending === 0) this.resolveCaughtUp();
    const messages = await consumer.consume({ idle_heartbeat: 1_000, expires: 10_000 });
    this.messages = messages;
    // After a NATS node dies the consumer can go quiet for good: restart it when heartbeats stop.
    void (async () => {
      for await (const s of messages.status()) {
        if (s.type === 'heartbeats_missed' && s.count >= 2) {
          this.onError(new Error(`consumer on ${this.stream} missed ${s.count} heartbeats, restarting`));
          await messages.close().catch(() => undefined);
          return;
        }
      }
    })();
    for await (const m of messages) {
      if (m.seq <= this.lastSeq) continue;
      this.lastSeq = m.seq;
      try {
        this.handle({ subject: m.subject, seq: m.seq, data: m.data });
      } catch (err) {
        this.onError(err);
      }
      if (m.info.pending === 0) this.resolveCaughtUp();
    }
  }
}
