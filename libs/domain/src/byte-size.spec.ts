import { formatBytes, parseByteSize } from './byte-size';
import { InvalidInput } from './errors';

describe('parseByteSize', () => {
  it.each([
    ['0', 0],
    ['1048576', 1_048_576],
    ['512B', 512],
    ['1KiB', 1024],
    ['512MiB', 512 * 2 ** 20],
    ['8GiB', 8 * 2 ** 30],
    ['2TiB', 2 * 2 ** 40],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['100GB', 100 * 2 ** 30], // as nats-server reads max_file_store: binary
    ['64mb', 64 * 2 ** 20],
    ['4G', 4 * 2 ** 30],
    ['256 MiB', 256 * 2 ** 20],
  ])('%s is %d bytes', (raw, bytes) => {
    expect(parseByteSize(raw, 'EVENTS_MAX_BYTES')).toBe(bytes);
  });

  it('rounds a fraction of a byte down', () => {
    expect(parseByteSize('1.0001KiB', 'X')).toBe(1024);
  });

  it.each(['', 'lots', '-1GiB', '8XB', '1e9', 'GiB', '8 GiB extra', `${'9'.repeat(40)}`, '99999999TiB'])('refuses %j naming the setting', (raw) => {
    expect(() => parseByteSize(raw, 'EVENTS_MAX_BYTES')).toThrow(InvalidInput);
    expect(() => parseByteSize(raw, 'EVENTS_MAX_BYTES')).toThrow(/^EVENTS_MAX_BYTES: /);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1 KiB'],
    [200 * 2 ** 20, '200 MiB'],
    [1.5 * 2 ** 30, '1.5 GiB'],
    [4 * 2 ** 40, '4 TiB'],
    [190.04 * 2 ** 20, '190 MiB'],
  ])('%d is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('reads back what it writes for whole units', () => {
    for (const bytes of [1024, 3 * 2 ** 20, 8 * 2 ** 30]) expect(parseByteSize(formatBytes(bytes).replace(' ', ''), 'X')).toBe(bytes);
  });
});
