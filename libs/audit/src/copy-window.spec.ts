import { CopyWindow } from './copy-window';

const tick = () => new Promise((r) => setImmediate(r));

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('CopyWindow', () => {
  const never = new AbortController().signal;

  it('admits copies up to its count, then waits for one to be acknowledged', async () => {
    const window = new CopyWindow({ maxCopies: 2, maxBytes: 1_000 });
    const [a, b] = [deferred(), deferred()];
    window.add(10, a.promise, () => undefined);
    window.add(10, b.promise, () => undefined);
    let admitted = false;
    const waiting = window.room(10, never).then(() => (admitted = true));
    await tick();
    expect(admitted).toBe(false);
    a.resolve();
    await waiting;
    expect(admitted).toBe(true);
    b.resolve();
    await window.settled();
  });

  it('bounds bytes but still admits one copy larger than the bound when nothing is in flight', async () => {
    const window = new CopyWindow({ maxCopies: 10, maxBytes: 100 });
    await window.room(500, never);
    const big = deferred();
    window.add(500, big.promise, () => undefined);
    let admitted = false;
    const waiting = window.room(1, never).then(() => (admitted = true));
    await tick();
    expect(admitted).toBe(false);
    big.resolve();
    await waiting;
  });

  it('keeps the first failure, reports it once, and settles only when every copy sent has', async () => {
    const window = new CopyWindow({ maxCopies: 1, maxBytes: 1_000 });
    const [a, b] = [deferred(), deferred()];
    const failures: number[] = [];
    window.add(1, a.promise, () => failures.push(1));
    window.add(1, b.promise, () => failures.push(2));
    a.reject(new Error('first'));
    await tick();
    await window.room(1, never); // no waiting once a copy failed
    let settled = false;
    const settling = window.settled().then(() => (settled = true));
    await tick();
    expect(settled).toBe(false);
    b.reject(new Error('second'));
    await settling;
    expect(failures).toEqual([1]);
    expect(String(window.failure?.err)).toContain('first');
  });
});
