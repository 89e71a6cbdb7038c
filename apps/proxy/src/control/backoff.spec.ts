import { BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, nextBackoff, withJitter } from './backoff';

describe('control connection backoff', () => {
  it('starts at 250 ms and doubles up to 10 s', () => {
    const delays: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 9; i++) delays.push((d = nextBackoff(d)));
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
    expect(nextBackoff(undefined)).toBe(BACKOFF_INITIAL_MS);
    expect(nextBackoff(BACKOFF_MAX_MS)).toBe(BACKOFF_MAX_MS);
  });

  it('jitters within [delay/2, delay]', () => {
    expect(withJitter(1000, () => 0)).toBe(500);
    expect(withJitter(1000, () => 0.999999)).toBe(1000);
    for (let i = 0; i < 100; i++) {
      const j = withJitter(4000);
      expect(j).toBeGreaterThanOrEqual(2000);
      expect(j).toBeLessThanOrEqual(4000);
    }
  });
});
