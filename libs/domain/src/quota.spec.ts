import { QuotaExceeded } from './errors';
import { belongsToProxy, quotaRefusal, TokenBucket, writeRateRefusal } from './quota';

const LIMITS = { liveTasks: 3, liveBytes: 1_000 };

describe('quotaRefusal', () => {
  it('admits a write that fits both quotas', () => {
    expect(quotaRefusal('p1.b', { tasks: 2, bytes: 900 }, { newTask: true, bytes: 100 }, LIMITS)).toBeUndefined();
  });

  it('refuses a new task beyond the live-task quota with 429 semantics, naming the quota and its setting', () => {
    const refusal = quotaRefusal('p1.b', { tasks: 3, bytes: 0 }, { newTask: true, bytes: 1 }, LIMITS)!;
    expect(refusal).toBeInstanceOf(QuotaExceeded);
    expect(refusal).toMatchObject({ kind: 'too_many_requests', code: 'quota_exceeded', quota: 'live_tasks' });
    expect(refusal.message).toMatch(/p1\.b has 3 live tasks, its quota is 3 \(QUOTA_LIVE_TASKS\)/);
    expect(refusal.retryAfterSeconds).toBeGreaterThan(1);
  });

  it('lets a result through at the live-task quota (results are not tasks)', () => {
    expect(quotaRefusal('p1.b', { tasks: 3, bytes: 0 }, { newTask: false, bytes: 1 }, LIMITS)).toBeUndefined();
  });

  it('refuses a write that would pass the byte quota with 507 semantics', () => {
    const refusal = quotaRefusal('p1.b', { tasks: 0, bytes: 950 }, { newTask: false, bytes: 51 }, LIMITS)!;
    expect(refusal).toMatchObject({ kind: 'storage_full', code: 'quota_exceeded', quota: 'live_bytes' });
    expect(refusal.message).toMatch(/QUOTA_LIVE_BYTES/);
  });
});

describe('writeRateRefusal', () => {
  it('is a 429 naming the rate, with Retry-After rounded up to whole seconds', () => {
    expect(writeRateRefusal('p1.b', 5, 1_200)).toMatchObject({ kind: 'too_many_requests', quota: 'write_rate', retryAfterSeconds: 2 });
    expect(writeRateRefusal('p1.b', 5, 10).retryAfterSeconds).toBe(1);
  });
});

describe('belongsToProxy', () => {
  it('matches the proxy itself and its apps only', () => {
    expect(belongsToProxy('p1.b', 'p1.b')).toBe(true);
    expect(belongsToProxy('app.p1.b', 'p1.b')).toBe(true);
    expect(belongsToProxy('app.xp1.b', 'p1.b')).toBe(false);
    expect(belongsToProxy('app.p2.b', 'p1.b')).toBe(false);
  });
});

describe('TokenBucket', () => {
  it('admits a burst, then one write per 1/rate seconds', () => {
    const bucket = new TokenBucket(10, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(50)).toBe(50);
    expect(bucket.take(100)).toBe(0);
    expect(bucket.take(100)).toBe(100);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect(bucket.isFull(0)).toBe(true);
    bucket.take(0);
    expect(bucket.isFull(50)).toBe(false);
    expect(bucket.isFull(100)).toBe(true);
    expect([bucket.take(60_000), bucket.take(60_000), bucket.take(60_000)]).toEqual([0, 0, 100]);
  });
});
