/**
 * Maps an async stream with up to `concurrency` calls in flight while keeping the input's order: signature
 * checks run on libuv's thread pool, so a listing verifies on every core, yet the app gets its items in the
 * order of the log. Nothing is read from the source beyond what is in flight, which keeps memory bounded.
 */
export async function* mapInOrder<T, U>(source: AsyncIterable<T>, concurrency: number, map: (item: T) => Promise<U>): AsyncGenerator<U> {
  const iterator = source[Symbol.asyncIterator]();
  const inFlight: Promise<U>[] = [];
  let exhausted = false;
  const fill = async (): Promise<void> => {
    while (!exhausted && inFlight.length < concurrency) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      const mapped = map(next.value);
      mapped.catch(() => undefined); // observed when its turn comes
      inFlight.push(mapped);
    }
  };
  try {
    await fill();
    while (inFlight.length > 0) {
      const value = await (inFlight.shift() as Promise<U>);
      await fill();
      yield value;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
  }
}
