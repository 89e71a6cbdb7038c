import { formatRemainingTtl, parseDuration } from './duration';
import { InvalidInput } from './errors';

describe('parseDuration', () => {
  it.each([
    ['10ms', 10],
    ['1s', 1_000],
    ['1.5s', 1_500],
    ['1.1s', 1_100],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['60', 60_000],
    ['0', 0],
    ['0s', 0],
    ['0.5', 500],
    ['0.5ms', 1],
  ])('parses %j as %d ms', (input, ms) => {
    expect(parseDuration(input, 'ttl')).toBe(ms);
  });

  it('treats a bare JSON number as seconds', () => {
    expect(parseDuration(60, 'ttl')).toBe(60_000);
    expect(parseDuration(1.5, 'ttl')).toBe(1_500);
    expect(parseDuration(0, 'ttl')).toBe(0);
  });

  it.each([
    '',
    ' ',
    '-1',
    '-1s',
    '1x',
    '1 s',
    's',
    '1.s',
    '.5s',
    '1e3',
    'NaN',
    'Infinity',
    '1s2',
    '1sec',
    '0x10',
    '1,5s',
    -1,
    NaN,
    Infinity,
    -Infinity,
    null,
    undefined,
    true,
    {},
    [],
    ['1s'],
  ])('rejects %j naming the field', (input) => {
    expect(() => parseDuration(input, 'wait_time')).toThrow(InvalidInput);
    expect(() => parseDuration(input, 'wait_time')).toThrow(/^wait_time: /);
  });

  it('rejects results above Number.MAX_SAFE_INTEGER ms', () => {
    expect(() => parseDuration('9007199254740992ms', 'ttl')).toThrow(/^ttl: /);
    expect(() => parseDuration('999999999999d', 'ttl')).toThrow(/^ttl: /);
    expect(() => parseDuration(1e300, 'ttl')).toThrow(/^ttl: /);
    expect(() => parseDuration('9'.repeat(400), 'ttl')).toThrow(/^ttl: /);
    expect(parseDuration('9007199254740991ms', 'ttl')).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('formatRemainingTtl', () => {
  it.each([
    [59_001, '60s'],
    [60_000, '60s'],
    [1, '1s'],
    [0, '0s'],
    [-5, '0s'],
    [NaN, '0s'],
  ])('formats %d ms as %s', (ms, s) => {
    expect(formatRemainingTtl(ms)).toBe(s);
  });
});
