import type { WorkStatus } from './messages';
import type { ResultView, TaskView } from './projection';
import { isTodoFor } from './todo';

function taskWith(results: Array<[string, WorkStatus]>): TaskView {
  const map = new Map<string, ResultView>();
  results.forEach(([from, status], i) => map.set(from, { from, to: ['a.p1.b'], status, receivedAt: 0, seq: i + 2, bytes: 100 }));
  return {
    taskId: 't',
    from: 'a.p1.b',
    to: ['w1.p2.b', 'w2.p2.b'],
    receivedAt: 0,
    expiresAt: 10,
    seq: 1,
    bytes: 100,
    results: map,
    logSeqs: [1],
    charged: new Map(),
  };
}

describe('isTodoFor', () => {
  it('lists a task for a recipient without any result', () => {
    expect(isTodoFor(taskWith([]), 'w1.p2.b')).toBe(true);
  });

  it('never lists a task for an app that is not a recipient', () => {
    expect(isTodoFor(taskWith([]), 'a.p1.b')).toBe(false);
  });

  it.each(['succeeded', 'permfailed', 'claimed'] as WorkStatus[])('drops the task once the app has a %s result', (status) => {
    expect(isTodoFor(taskWith([['w1.p2.b', status]]), 'w1.p2.b')).toBe(false);
  });

  it('keeps the task listed after a tempfailed result', () => {
    expect(isTodoFor(taskWith([['w1.p2.b', 'tempfailed']]), 'w1.p2.b')).toBe(true);
  });

  it("ignores other workers' results", () => {
    expect(isTodoFor(taskWith([['w2.p2.b', 'succeeded']]), 'w1.p2.b')).toBe(true);
  });
});
