/**
 * Among results of one worker for one task, the newest signed one wins, in what broker-api appends and in what
 * broker-store serves: a copy of an older result re-published into the log does not displace a newer one.
 */
import { decidePutResult, type PutResult, type Stored } from './deciders';
import type { ResultPut, TaskCreated } from './events';
import type { WorkStatus } from './messages';
import { applyEvent, emptyProjection, resultsFor } from './projection';
import { isOlderResult } from './write-rules';

const TASK = '11111111-1111-4111-8111-111111111111';
const SENDER = 'app1.proxy1.broker';
const WORKER = 'app1.proxy2.broker';
const NOW = 1_700_000_000_000;

const task: TaskCreated = {
  type: 'TaskCreated',
  v: 1,
  taskId: TASK,
  from: SENDER,
  to: [WORKER],
  message: 'jws',
  digest: 'd',
  receivedAt: NOW,
  expiresAt: NOW + 60_000,
};
function resultPut(status: WorkStatus, created: number | undefined, message: string): ResultPut {
  const event: ResultPut = { type: 'ResultPut', v: 1, taskId: TASK, from: WORKER, to: [SENDER], status, message, receivedAt: NOW + 1_000 };
  return created === undefined ? event : { ...event, created };
}

describe('isOlderResult', () => {
  it('holds for a result signed before the current one, or without a time after one with', () => {
    expect(isOlderResult({ created: 10 }, 9)).toBe(true);
    expect(isOlderResult({ created: 10 }, undefined)).toBe(true);
    expect(isOlderResult({ created: 10 }, 10)).toBe(false);
    expect(isOlderResult({ created: 10 }, 11)).toBe(false);
    expect(isOlderResult({}, 1)).toBe(false);
    expect(isOlderResult(undefined, 1)).toBe(false);
  });
});

describe('projection: a copy of an older result re-published after a newer one', () => {
  it('keeps serving the newer one, also when the copy claims another status or drops its time', () => {
    const s = emptyProjection();
    applyEvent(s, task, 1);
    applyEvent(s, resultPut('tempfailed', NOW + 100, 'older'), 2);
    applyEvent(s, resultPut('succeeded', NOW + 200, 'newer'), 3);
    applyEvent(s, resultPut('tempfailed', NOW + 100, 'older'), 4);
    applyEvent(s, { ...resultPut('tempfailed', undefined, 'older'), status: 'permfailed' }, 5);
    expect(resultsFor(s.tasks.get(TASK)!, SENDER)).toMatchObject([{ seq: 3, status: 'succeeded', created: NOW + 200 }]);
    expect(s.tasks.get(TASK)!.logSeqs).toEqual([1, 2, 3, 4, 5]); // still removed with the task at expiry
  });

  it('replaces a result by a newer one, and by one signed at the same instant (the later in the log)', () => {
    const s = emptyProjection();
    applyEvent(s, task, 1);
    applyEvent(s, resultPut('claimed', NOW + 100, 'first'), 2);
    applyEvent(s, resultPut('tempfailed', NOW + 100, 'same instant'), 3);
    expect(resultsFor(s.tasks.get(TASK)!, SENDER)).toMatchObject([{ seq: 3 }]);
    applyEvent(s, resultPut('succeeded', NOW + 300, 'newer'), 4);
    expect(resultsFor(s.tasks.get(TASK)!, SENDER)).toMatchObject([{ seq: 4, status: 'succeeded' }]);
  });
});

describe('decidePutResult: a result signed before the current one', () => {
  const stored: Stored<TaskCreated> = { seq: 1, event: task };
  const prior: Stored<ResultPut> = { seq: 5, event: resultPut('succeeded', NOW + 200, 'newer') };
  const put = (created: number): PutResult => ({ taskId: TASK, from: WORKER, to: [SENDER], status: 'tempfailed', message: 'm', created });

  it('appends nothing and answers with the current one', () => {
    expect(decidePutResult(stored, prior, put(NOW + 100), NOW + 2_000)).toEqual({ kind: 'already', seq: 5, replaces: true });
  });

  it('appends a newer one, repeating its signed time in the event', () => {
    expect(decidePutResult(stored, prior, put(NOW + 300), NOW + 2_000)).toMatchObject({ kind: 'append', event: { created: NOW + 300 }, replaces: true });
  });
});
