import { SharedWaits, type SharedAnswer, type WaitingRead } from './shared-waits';

interface Upstream {
  waitMs: number;
  signal: AbortSignal;
  answer(a: SharedAnswer<string>): void;
}

/** A broker stand-in: every read is recorded and answered by the test (a read that does not wait, at once). */
function broker(now: SharedAnswer<string> = { status: 206, lines: [] }): { reads: Upstream[]; read: WaitingRead<string> } {
  const reads: Upstream[] = [];
  const read: WaitingRead<string> = (waitMs, signal) =>
    new Promise((resolve, reject) => {
      reads.push({ waitMs, signal, answer: resolve });
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
      if (waitMs === 0) resolve(now);
    });
  return { reads, read };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const live = () => new AbortController().signal;

describe('SharedWaits', () => {
  it('makes one upstream wait for identical waiting reads, and gives each the answer', async () => {
    const waits = new SharedWaits<string>();
    const b = broker();
    const answers = Promise.all(Array.from({ length: 50 }, () => waits.read('app1 todo', 7, 10_000, live(), b.read)));
    expect(b.reads).toHaveLength(1);
    expect(waits.upstreamWaits).toBe(1);
    b.reads[0].answer({ status: 200, lines: ['task'] });
    expect(await answers).toEqual(Array.from({ length: 50 }, () => ({ status: 200, lines: ['task'] })));
    expect(waits.upstreamWaits).toBe(0);
  });

  it('starts a new wait for another key, or for a higher min_seq than the one in flight', async () => {
    const waits = new SharedWaits<string>();
    const b = broker();
    void waits.read('app1 todo', 7, 10_000, live(), b.read).catch(() => undefined);
    void waits.read('app2 todo', 7, 10_000, live(), b.read).catch(() => undefined);
    void waits.read('app1 todo', 8, 10_000, live(), b.read).catch(() => undefined);
    void waits.read('app1 todo', 8, 10_000, live(), b.read).catch(() => undefined); // joins the min_seq 8 wait
    void waits.read('app1 todo', 5, 10_000, live(), b.read).catch(() => undefined); // joins it too: 8 >= 5
    expect(b.reads).toHaveLength(3);
    for (const r of b.reads) r.answer({ status: 200, lines: [] });
    await sleep(0);
  });

  it('answers at its own deadline with a read that does not wait, when the shared wait lasts longer', async () => {
    const waits = new SharedWaits<string>();
    const b = broker({ status: 206, lines: ['now'] });
    const long = waits.read('app1 todo', 0, 10_000, live(), b.read);
    const started = Date.now();
    expect(await waits.read('app1 todo', 0, 150, live(), b.read)).toEqual({ status: 206, lines: ['now'] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(b.reads.map((r) => r.waitMs)).toEqual([10_000, 0]);
    b.reads[0].answer({ status: 200, lines: ['task'] });
    expect(await long).toEqual({ status: 200, lines: ['task'] });
  });

  it('waits again for the time it has left when a wait that started earlier runs out first', async () => {
    jest.useFakeTimers();
    try {
      const waits = new SharedWaits<string>();
      const b = broker();
      const first = waits.read('app1 todo', 0, 100, live(), b.read);
      await jest.advanceTimersByTimeAsync(50);
      const second = waits.read('app1 todo', 0, 5_000, live(), b.read);
      await jest.advanceTimersByTimeAsync(45); // the broker ends the first wait as its time runs out
      b.reads[0].answer({ status: 206, lines: [] });
      expect(await first).toEqual({ status: 206, lines: [] });
      await jest.advanceTimersByTimeAsync(0);
      expect(b.reads.map((r) => r.waitMs)).toEqual([100, 5_000 - 45]);
      b.reads[1].answer({ status: 200, lines: ['task'] });
      expect(await second).toEqual({ status: 200, lines: ['task'] });
    } finally {
      jest.useRealTimers();
    }
  });

  it('passes on a 206 the broker gives before the wait ran out (its shutdown), without waiting again', async () => {
    const waits = new SharedWaits<string>();
    const b = broker();
    const answer = waits.read('app1 todo', 0, 10_000, live(), b.read);
    b.reads[0].answer({ status: 206, lines: [] });
    expect(await answer).toEqual({ status: 206, lines: [] });
    expect(b.reads).toHaveLength(1);
  });

  it('cancels the upstream wait only when every request that joined it has gone', async () => {
    const waits = new SharedWaits<string>();
    const b = broker();
    const apps = [new AbortController(), new AbortController(), new AbortController()];
    const answers = apps.map((app) => waits.read('app1 todo', 0, 10_000, app.signal, b.read).catch((err: Error) => err.message));
    apps[0].abort(new Error('left'));
    apps[1].abort(new Error('left'));
    await sleep(0);
    expect(b.reads[0].signal.aborted).toBe(false);
    apps[2].abort(new Error('left'));
    await sleep(0);
    expect(b.reads[0].signal.aborted).toBe(true);
    expect(await Promise.all(answers)).toEqual(['left', 'left', 'left']);
    expect(waits.upstreamWaits).toBe(0);
  });
});
