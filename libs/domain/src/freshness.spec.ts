import { DEFAULT_MESSAGE_CLOCK_SKEW_MS, remainingTtlMs, resultStaleness, signedExpiry, taskStaleness } from './freshness';

const CREATED = 1_700_000_000_000;
const SKEW = 1_000;
const task = { created: CREATED, ttl: '3s' };

describe('freshness by signed times', () => {
  it('dates a task’s expiry from its signed creation time and ttl', () => {
    expect(signedExpiry(task)).toBe(CREATED + 3_000);
    expect(signedExpiry({ created: CREATED, ttl: '604800s' })).toBe(CREATED + 604_800_000);
  });

  it('shows a task until created + ttl + the allowed skew, and not after', () => {
    expect(taskStaleness(task, CREATED, SKEW)).toBeUndefined();
    expect(taskStaleness(task, CREATED + 3_999, SKEW)).toBeUndefined();
    expect(taskStaleness(task, CREATED + 4_000, SKEW)).toEqual({ reason: expect.stringContaining('expired') });
    expect(taskStaleness(task, CREATED + 7 * 86_400_000, SKEW)).toEqual({ reason: expect.stringContaining('expired') });
  });

  it('refuses a message dated more than the skew into the future', () => {
    expect(taskStaleness(task, CREATED - SKEW, SKEW)).toBeUndefined();
    expect(taskStaleness(task, CREATED - SKEW - 1, SKEW)).toEqual({ reason: expect.stringContaining('future') });
    expect(resultStaleness({ created: CREATED }, CREATED - SKEW, SKEW)).toBeUndefined();
    expect(resultStaleness({ created: CREATED }, CREATED - SKEW - 1, SKEW)).toEqual({ reason: expect.stringContaining('future') });
    expect(resultStaleness({ created: CREATED }, CREATED + 86_400_000, SKEW)).toBeUndefined(); // results live with their task
  });

  it('gives the remaining ttl by the signed times, never more than the ttl', () => {
    expect(remainingTtlMs(task, CREATED + 1_000)).toBe(2_000);
    expect(remainingTtlMs(task, CREATED - 500)).toBe(3_000);
    expect(remainingTtlMs(task, CREATED + 3_500)).toBe(-500);
  });

  it('allows a small, bounded skew by default', () => {
    expect(DEFAULT_MESSAGE_CLOCK_SKEW_MS).toBe(30_000);
  });
});
