/**
 * At most `max` units of work in flight per key (a proxy, an app): uploads being read, clients waiting.
 * Beyond it the work is refused at once with the error `refuse` builds (a 429), never queued: a queue would
 * hold the very memory or connections the limit is there to bound.
 */
export class KeyedLimit {
  private readonly inFlight = new Map<string, number>();

  constructor(
    readonly max: number,
    private readonly refuse: (key: string, taken: number) => Error,
  ) {}

  /** Runs `work` in one of `key`'s slots; throws `refuse(key, taken)` when they are all taken. */
  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const taken = this.inFlight.get(key) ?? 0;
    if (taken >= this.max) throw this.refuse(key, taken);
    this.inFlight.set(key, taken + 1);
    try {
      return await work();
    } finally {
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    }
  }

  /** Slots of `key` in use now. */
  taken(key: string): number {
    return this.inFlight.get(key) ?? 0;
  }
}
