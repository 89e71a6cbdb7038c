/**
 * Admits work in arrival order while at most `maxCount` pieces and `maxBytes` bytes are in flight; a piece
 * bigger than `maxBytes` runs alone. What waits, waits here, in memory of a few bytes per piece, instead of
 * as requests piling up at the server.
 */
export class ByteGate {
  private count = 0;
  private bytes = 0;
  private readonly queue: { bytes: number; start: () => void }[] = [];

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  async run<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    await this.admit(bytes);
    try {
      return await work();
    } finally {
      this.count--;
      this.bytes -= bytes;
      this.startQueued();
    }
  }

  /** Pieces waiting for room (for health and tests). */
  get waiting(): number {
    return this.queue.length;
  }

  private admit(bytes: number): Promise<void> {
    if (this.queue.length === 0 && this.fits(bytes)) {
      this.take(bytes);
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.queue.push({
        bytes,
        start: () => {
          this.take(bytes);
          resolve();
        },
      }),
    );
  }

  private fits(bytes: number): boolean {
    return this.count === 0 || (this.count < this.maxCount && this.bytes + bytes <= this.maxBytes);
  }

  private take(bytes: number): void {
    this.count++;
    this.bytes += bytes;
  }

  private startQueued(): void {
    while (this.queue.length > 0 && this.fits(this.queue[0].bytes)) (this.queue.shift() as { start: () => void }).start();
  }
}
