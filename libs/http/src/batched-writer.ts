/**
 * Writing long answers piece by piece without paying a socket write per piece, and without running ahead of
 * a slow client: pieces are batched up to 64 KiB, and a flush waits while the client is behind.
 */
import type { Writable } from 'node:stream';

const BATCH_BYTES = 64 * 1024;

export class BatchedWriter {
  private parts: Uint8Array[] = [];
  private bytes = 0;

  constructor(private readonly out: Writable) {}

  /** True once enough is batched to be worth a write. */
  get full(): boolean {
    return this.bytes >= BATCH_BYTES;
  }

  add(...parts: (Uint8Array | string)[]): void {
    for (const p of parts) {
      const bytes = typeof p === 'string' ? Buffer.from(p) : p;
      this.parts.push(bytes);
      this.bytes += bytes.length;
    }
  }

  /** Writes what is batched and waits while the client is behind; false once the client is gone. */
  async flush(): Promise<boolean> {
    if (this.parts.length > 0) {
      this.out.write(this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bytes));
      this.parts = [];
      this.bytes = 0;
    }
    await drained(this.out);
    return !this.out.destroyed;
  }
}

/**
 * Resolves once `out` can take more (or is gone). Both listeners are removed whichever fires first: a
 * long answer waits for `drain` thousands of times, and listeners left behind each time would pile up.
 */
export function drained(out: Writable): Promise<void> {
  if (out.destroyed || !out.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      out.off('drain', done);
      out.off('close', done);
      resolve();
    };
    out.on('drain', done);
    out.on('close', done);
  });
}
