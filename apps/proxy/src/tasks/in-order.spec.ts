import { mapInOrder } from './in-order';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function* numbers(n: number, pulled: number[]): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) {
    pulled.push(i);
    yield i;
  }
}

describe('mapInOrder', () => {
  it('keeps the input order although later items finish first', async () => {
    const out: number[] = [];
    for await (const v of mapInOrder(numbers(20, []), 5, async (i) => {
      await sleep((20 - i) * 2);
      return i * 10;
    }))
      out.push(v);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
  });

  it('never has more than `concurrency` calls in flight, nor reads further ahead', async () => {
    let inFlight = 0;
    let most = 0;
    const pulled: number[] = [];
    const taken: number[] = [];
    for await (const v of mapInOrder(numbers(50, pulled), 4, async (i) => {
      most = Math.max(most, ++inFlight);
      await sleep(3);
      inFlight--;
      return i;
    })) {
      taken.push(v);
      expect(pulled.length).toBeLessThanOrEqual(taken.length + 4);
    }
    expect(most).toBe(4);
    expect(taken).toHaveLength(50);
  });

  it('stops reading the source when the consumer stops early', async () => {
    const pulled: number[] = [];
    for await (const v of mapInOrder(numbers(1_000, pulled), 3, async (i) => i)) if (v === 10) break;
    expect(pulled.length).toBeLessThan(20);
  });

  it('surfaces a failed call at its turn', async () => {
    const out: number[] = [];
    const run = async () => {
      for await (const v of mapInOrder(numbers(10, []), 3, async (i) => {
        if (i === 4) throw new Error('bad item');
        return i;
      }))
        out.push(v);
    };
    await expect(run()).rejects.toThrow('bad item');
    expect(out).toEqual([0, 1, 2, 3]);
  });
});
