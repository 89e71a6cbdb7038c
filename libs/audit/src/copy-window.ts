/**
 * Copies in flight, bounded by count and bytes. The first failure is kept; once a copy failed no more are
 * admitted, and `settled()` waits for every copy already sent, so the caller re-reads where BEAM_AUDIT
 * stands only after nothing of this run can still land.
 */
export interface CopyWindowLimits {
  /** Copies published and not yet acknowledged. */
  maxCopies: number;
  /** Their payload bytes (a single larger copy is still admitted alone). */
  maxBytes: number;
}

export class CopyWindow {
  private copies = 0;
  private bytes = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private wake: (() => void) | undefined;
  private firstFailure: { err: unknown } | undefined;

  constructor(private readonly limits: CopyWindowLimits) {}

  /** The first copy that failed, if any. */
  get failure(): { err: unknown } | undefined {
    return this.firstFailure;
  }

  /** Resolves once a copy of `bytes` fits (or a copy failed, or `signal` aborted). */
  async room(bytes: number, signal: AbortSignal): Promise<void> {
    while (!this.firstFailure && !signal.aborted && this.copies > 0 && (this.copies >= this.limits.maxCopies || this.bytes + bytes > this.limits.maxBytes)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        signal.addEventListener('abort', done, { once: true });
        this.wake = done;
      });
    }
  }

  /** Tracks a copy just sent; `onFailure` runs once, for the first copy that fails. */
  add(bytes: number, copy: Promise<void>, onFailure: () => void): void {
    this.copies++;
    this.bytes += bytes;
    const tracked = copy
      .catch((err: unknown) => {
        if (this.firstFailure) return;
        this.firstFailure = { err };
        onFailure();
      })
      .finally(() => {
        this.copies--;
        this.bytes -= bytes;
        this.inFlight.delete(tracked);
        this.wake?.();
      });
    this.inFlight.add(tracked);
  }

  /** Resolves once every copy sent has been acknowledged or has failed. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
