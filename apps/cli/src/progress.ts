/**
 * A progress line on stderr for commands that read a whole stream (`audit verify`, `audit replay`): redrawn in
 * place a few times a second on a terminal, one line every 10 s otherwise (a log file). Nothing is shown for a
 * run shorter than its first interval, so quick commands stay quiet.
 */
export interface ProgressSink {
  isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private count = 0;
  private readonly started = Date.now();
  private lastShown: number;
  private shown = false;
  private readonly intervalMs: number;

  constructor(
    private readonly what: string,
    private readonly sink: ProgressSink = process.stderr,
    intervalMs?: number,
  ) {
    this.intervalMs = intervalMs ?? (sink.isTTY ? 250 : 10_000);
    // The first line comes after a second on a terminal, after a whole interval elsewhere.
    this.lastShown = this.started - this.intervalMs + (sink.isTTY ? 1_000 : this.intervalMs);
  }

  /** Counts `n` more events and redraws when the interval has passed. */
  tick(n = 1): void {
    this.count += n;
    const now = Date.now();
    if (now - this.lastShown < this.intervalMs) return;
    this.lastShown = now;
    this.shown = true;
    const text = `${this.what}: ${this.count.toLocaleString('en-US')} events read in ${Math.round((now - this.started) / 1000)} s`;
    this.sink.write(this.sink.isTTY ? `\r${text}\x1b[K` : `${text}\n`);
  }

  /** Clears the line on a terminal, so the command's own output starts on a clean line. */
  done(): void {
    if (this.shown && this.sink.isTTY) this.sink.write('\r\x1b[K');
  }
}
