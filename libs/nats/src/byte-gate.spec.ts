import { ByteGate } from './byte-gate';

const tick = () => new Promise((r) => setImmediate(r));

function controllable(): { promise: Promise<void>; finish: () => void } {
  let finish!: () => void;
  const promise = new Promise<void>((r) => (finish = r));
  return { promise, finish };
}

describe('ByteGate', () => {
  it('runs at most maxCount pieces at once, the rest in arrival order', async () => {
    const gate = new ByteGate(2, 1_000);
    const started: number[] = [];
    const works = [0, 1, 2, 3].map(() => controllable());
    const runs = works.map((w, i) =>
      gate.run(1, async () => {
        started.push(i);
        await w.promise;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(gate.waiting).toBe(2);
    works[1].finish();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    works[0].finish();
    works[2].finish();
    works[3].finish();
    await Promise.all(runs);
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('holds bytes in flight under maxBytes, but lets a piece bigger than maxBytes run alone', async () => {
    const gate = new ByteGate(10, 100);
    const started: string[] = [];
    const a = controllable();
    const b = controllable();
    const runA = gate.run(60, async () => {
      started.push('a');
      await a.promise;
    });
    const runBig = gate.run(500, async () => {
      started.push('big');
      await b.promise;
    });
    const runC = gate.run(10, async () => {
      started.push('c');
    });
    await tick();
    expect(started).toEqual(['a']); // big waits for room; c waits behind big (arrival order)
    a.finish();
    await tick();
    expect(started).toEqual(['a', 'big']);
    b.finish();
    await Promise.all([runA, runBig, runC]);
    expect(started).toEqual(['a', 'big', 'c']);
  });

  it('frees the room of a piece that failed', async () => {
    const gate = new ByteGate(1, 100);
    await expect(
      gate.run(10, async () => {
        throw new Error('get failed');
      }),
    ).rejects.toThrow('get failed');
    await expect(gate.run(10, async () => 'next')).resolves.toBe('next');
  });
});
