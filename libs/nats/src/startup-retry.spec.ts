import { TimeoutError } from '@nats-io/nats-core';
import { retryTransient } from './startup-retry';

describe('retryTransient', () => {
  it('retries a timeout with a log line each, then returns the result', async () => {
    const lines: string[] = [];
    let calls = 0;
    const result = await retryTransient(
      'reconciling the streams',
      () => {
        calls++;
        return calls < 3 ? Promise.reject(new TimeoutError()) : Promise.resolve('done');
      },
      { log: (l) => lines.push(l), delayMs: 1 },
    );
    expect(result).toBe('done');
    expect(lines).toEqual([
      'reconciling the streams: timeout (NATS is busy or electing a leader); retrying in 1 ms (attempt 1)',
      'reconciling the streams: timeout (NATS is busy or electing a leader); retrying in 2 ms (attempt 2)',
    ]);
  });

  it('fails at once on anything else, and after its budget on a timeout', async () => {
    const lines: string[] = [];
    await expect(retryTransient('x', () => Promise.reject(new Error('insufficient storage')), { log: (l) => lines.push(l) })).rejects.toThrow(
      'insufficient storage',
    );
    expect(lines).toEqual([]);
    await expect(retryTransient('x', () => Promise.reject(new TimeoutError()), { log: () => undefined, delayMs: 5, budgetMs: 20 })).rejects.toThrow('timeout');
  });
});
