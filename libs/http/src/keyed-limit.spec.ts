import { KeyedLimit } from './keyed-limit';

describe('KeyedLimit', () => {
  const limit = () => new KeyedLimit(2, (key, taken) => new Error(`${key}: ${taken} in flight`));
  const parked = () => {
    let release!: () => void;
    const done = new Promise<void>((r) => (release = r));
    return { done, release };
  };

  it('runs up to max at once per key and refuses the next at once, without queueing it', async () => {
    const l = limit();
    const a = parked();
    const b = parked();
    const first = l.run('p1', () => a.done);
    const second = l.run('p1', () => b.done);
    await expect(l.run('p1', async () => 'never')).rejects.toThrow('p1: 2 in flight');
    expect(l.taken('p1')).toBe(2);
    a.release();
    b.release();
    await Promise.all([first, second]);
    expect(l.taken('p1')).toBe(0);
  });

  it('counts every key on its own', async () => {
    const l = limit();
    const a = parked();
    const held = [l.run('p1', () => a.done), l.run('p1', () => a.done)];
    await expect(l.run('p2', async () => 'p2 runs')).resolves.toBe('p2 runs');
    a.release();
    await Promise.all(held);
  });

  it('frees the slot when the work fails', async () => {
    const l = limit();
    await expect(l.run('p1', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(l.taken('p1')).toBe(0);
  });
});
