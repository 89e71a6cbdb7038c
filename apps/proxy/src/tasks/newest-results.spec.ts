import { NewestResults } from './newest-results';

const TASK = '11111111-1111-4111-8111-111111111111';

describe('NewestResults', () => {
  it('refuses a result of a worker signed before one already shown, and admits the same or a newer one', () => {
    const newest = new NewestResults();
    expect(newest.admit(TASK, 'app2.proxy2.broker', 200)).toBe(true);
    expect(newest.admit(TASK, 'app2.proxy2.broker', 100)).toBe(false);
    expect(newest.admit(TASK, 'app2.proxy2.broker', 200)).toBe(true);
    expect(newest.admit(TASK, 'app2.proxy2.broker', 300)).toBe(true);
    expect(newest.admit(TASK, 'app2.proxy2.broker', 200)).toBe(false);
  });

  it('judges each worker of each task on its own', () => {
    const newest = new NewestResults();
    expect(newest.admit(TASK, 'app2.proxy2.broker', 200)).toBe(true);
    expect(newest.admit(TASK, 'app3.proxy2.broker', 100)).toBe(true);
    expect(newest.admit('22222222-2222-4222-8222-222222222222', 'app2.proxy2.broker', 100)).toBe(true);
  });
});
