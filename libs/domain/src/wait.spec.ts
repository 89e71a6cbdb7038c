import { InvalidInput } from './errors';
import { countTowardsWait, DEFAULT_MAX_WAIT_MS, isWaitSatisfied, parseWaitParams } from './wait';

const MAX = DEFAULT_MAX_WAIT_MS;

describe('parseWaitParams', () => {
  it('returns at once when neither param is given', () => {
    expect(parseWaitParams({}, MAX)).toEqual({ waitCount: undefined, waitMs: 0 });
  });

  it('waits up to the maximum when only wait_count is given', () => {
    expect(parseWaitParams({ wait_count: '2' }, MAX)).toEqual({ waitCount: 2, waitMs: MAX });
    expect(parseWaitParams({ wait_count: 3 }, 5_000)).toEqual({ waitCount: 3, waitMs: 5_000 });
  });

  it('waits up to wait_time for the first item when only wait_time is given', () => {
    expect(parseWaitParams({ wait_time: '10s' }, MAX)).toEqual({ waitCount: undefined, waitMs: 10_000 });
    expect(parseWaitParams({ wait_time: '5' }, MAX)).toEqual({ waitCount: undefined, waitMs: 5_000 });
  });

  it('takes both when both are given', () => {
    expect(parseWaitParams({ wait_count: '1', wait_time: '500ms' }, MAX)).toEqual({ waitCount: 1, waitMs: 500 });
  });

  it('caps wait_time at the maximum', () => {
    expect(parseWaitParams({ wait_time: '2h' }, MAX)).toEqual({ waitCount: undefined, waitMs: MAX });
  });

  it('accepts wait_count 0 and the upper bound 1000000', () => {
    expect(parseWaitParams({ wait_count: '0' }, MAX).waitCount).toBe(0);
    expect(parseWaitParams({ wait_count: '1000000' }, MAX).waitCount).toBe(1_000_000);
  });

  it.each(['', '-1', '1.5', 'abc', '1e3', ' 1', '1000001', '99999999999999999999', -1, 1.5, NaN, null, {}, ['1', '2'], ['1']])(
    'rejects wait_count %j naming the field',
    (v) => {
      expect(() => parseWaitParams({ wait_count: v }, MAX)).toThrow(InvalidInput);
      expect(() => parseWaitParams({ wait_count: v }, MAX)).toThrow(/^wait_count: /);
    },
  );

  it.each(['', '-1s', 'soon', '1x', null, ['1s', '2s'], ['1s']])('rejects wait_time %j naming the field', (v) => {
    expect(() => parseWaitParams({ wait_time: v }, MAX)).toThrow(/^wait_time: /);
  });
});

describe('countTowardsWait', () => {
  it('does not count claimed results', () => {
    expect(countTowardsWait(['claimed', 'succeeded', 'tempfailed', 'permfailed', 'claimed'])).toBe(3);
    expect(countTowardsWait([])).toBe(0);
  });
});

describe('isWaitSatisfied', () => {
  it('is satisfied at once without params', () => {
    expect(isWaitSatisfied(0, { waitCount: undefined, waitMs: 0 })).toBe(true);
  });

  it('with wait_time only, is satisfied by the first item', () => {
    expect(isWaitSatisfied(0, { waitCount: undefined, waitMs: 1_000 })).toBe(false);
    expect(isWaitSatisfied(1, { waitCount: undefined, waitMs: 1_000 })).toBe(true);
  });

  it('with wait_count, needs that many items', () => {
    expect(isWaitSatisfied(1, { waitCount: 2, waitMs: MAX })).toBe(false);
    expect(isWaitSatisfied(2, { waitCount: 2, waitMs: MAX })).toBe(true);
    expect(isWaitSatisfied(3, { waitCount: 2, waitMs: MAX })).toBe(true);
    expect(isWaitSatisfied(0, { waitCount: 0, waitMs: MAX })).toBe(true);
  });
});
