/**
 * What a waiting read waits on: wake-ups for its subjects (listened to before the first read, so none falls
 * into the gap), its deadline, and its client going away. Remembers the newest sequence it was woken for,
 * so the next read can ask the store for at least that (read-your-writes on any replica).
 */
import { Wakeups } from './wakeups';

export class WakeSignal implements Disposable {
  private newestSeq = 0;
  private pending = false;
  private release: (() => void) | undefined;
  private readonly stopListening: () => void;
  private readonly onAbort = () => this.release?.();
  /** How long a waiter goes without re-reading when no wake-up comes (WAKE_RECHECK). */
  private readonly recheckMs: number;

  constructor(
    wakeups: Wakeups,
    subjects: string[],
    private readonly signal: AbortSignal,
  ) {
    this.recheckMs = wakeups.recheckMs;
    this.stopListening = wakeups.listen(subjects, (seq) => {
      this.newestSeq = Math.max(this.newestSeq, seq);
      this.pending = true;
      this.release?.();
    });
    signal.addEventListener('abort', this.onAbort);
  }

  /** The newest sequence woken for, to pass as minSeq (undefined before any wake-up). */
  get minSeq(): number | undefined {
    return this.newestSeq || undefined;
  }

  get aborted(): boolean {
    return this.signal.aborted;
  }

  /**
   * Resolves true on a wake-up (also one that came before the call) or after WAKE_RECHECK without one, false
   * at `until` or on abort. The periodic re-check is a safety net: a notification is core NATS, and one sent
   * while this replica was reconnecting to another node is gone.
   */
  async wait(until: number): Promise<boolean> {
    if (!this.pending && !this.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(
          () => {
            if (Date.now() < until) this.pending = true; // re-check, not the end
            resolve();
          },
          Math.max(0, Math.min(until, Date.now() + this.recheckMs) - Date.now()),
        );
        this.release = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.release = undefined;
    }
    const woken = this.pending && !this.signal.aborted;
    this.pending = false;
    return woken;
  }

  [Symbol.dispose](): void {
    this.stopListening();
    this.signal.removeEventListener('abort', this.onAbort);
  }
}
