import { BeamAbortError, BeamBodyError, BeamError, BeamHttpError, BeamNetworkError } from './errors';
import { backoffDelay, isTransient, sleep, withRetries, type RetryPolicy } from './retry';

const http = (status: number, code = 'x', retryAfterMs?: number): BeamHttpError => new BeamHttpError(`${status}`, { status, code, retryAfterMs });
const net = (code: string): BeamNetworkError => new BeamNetworkError(code, code, undefined);
const policy = (over: Partial<RetryPolicy> = {}): RetryPolicy => ({ retries: 3, baseDelayMs: 1, maxDelayMs: 5, random: () => 0.5, ...over });

describe('isTransient', () => {
  it('retries what says nothing about the request: refused, reset, hang-up, timeouts, and 502/503/504', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN']) expect(isTransient(net(code))).toBe(true);
    for (const status of [502, 503, 504]) expect(isTransient(http(status))).toBe(true);
  });

  it('retries 409 write_contention, which docs/api.md tells clients to retry, and no other 409', () => {
    expect(isTransient(http(409, 'write_contention'))).toBe(true);
    expect(isTransient(http(409, 'task_exists'))).toBe(false);
  });

  it('never retries 4xx answers, other 5xx, DNS failures, aborts, bad bodies or plain errors', () => {
    for (const status of [400, 401, 403, 404, 410, 413, 424, 429, 500, 507]) expect(isTransient(http(status))).toBe(false);
    expect(isTransient(net('ENOTFOUND'))).toBe(false);
    expect(isTransient(new BeamAbortError(undefined))).toBe(false);
    expect(isTransient(new BeamBodyError('x', 'raw', undefined))).toBe(false);
    expect(isTransient(new Error('ECONNRESET'))).toBe(false);
  });
});

describe('backoffDelay', () => {
  const p: RetryPolicy = { retries: 10, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0 };

  it('doubles per attempt up to the maximum, jittered between half and all of it', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, p))).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, { ...p, random: () => 0.999999 }))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it("waits at least as long as the proxy's Retry-After", () => {
    expect(backoffDelay(0, p, http(503, 'x', 3000))).toBe(3000);
  });
});

describe('sleep', () => {
  it('rejects with a BeamAbortError as soon as the signal fires, carrying its reason', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const slept = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort('stop'), 20);
    const err = await slept.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BeamAbortError);
    expect((err as BeamAbortError).name).toBe('AbortError');
    expect((err as BeamAbortError).cause).toBe('stop');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('withRetries', () => {
  it('retries transient failures until one attempt succeeds, telling each attempt its number', async () => {
    const seen: number[] = [];
    const result = await withRetries(async (n) => {
      seen.push(n);
      if (n < 2) throw net('ECONNRESET');
      return 'ok';
    }, policy());
    expect(result).toBe('ok');
    expect(seen).toEqual([0, 1, 2]);
  });

  it('gives up after the configured retries with the last failure', async () => {
    let attempts = 0;
    const err = await withRetries(
      async () => {
        attempts++;
        throw http(503, `attempt ${attempts}`);
      },
      policy({ retries: 2 }),
    ).catch((e: unknown) => e);
    expect(attempts).toBe(3);
    expect((err as BeamError).code).toBe('attempt 3');
  });

  it('does not retry a final failure', async () => {
    let attempts = 0;
    await expect(
      withRetries(async () => {
        attempts++;
        throw http(400);
      }, policy()),
    ).rejects.toBeInstanceOf(BeamHttpError);
    expect(attempts).toBe(1);
  });

  it('stops waiting between attempts when aborted', async () => {
    const controller = new AbortController();
    let attempts = 0;
    const running = withRetries(
      async () => {
        attempts++;
        throw net('ECONNREFUSED');
      },
      policy({ baseDelayMs: 60_000, maxDelayMs: 60_000 }),
      controller.signal,
    );
    setTimeout(() => controller.abort(), 20);
    await expect(running).rejects.toBeInstanceOf(BeamAbortError);
    expect(attempts).toBe(1);
  });
});
