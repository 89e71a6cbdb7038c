import { describeValue } from './describe-value';
import { InvalidInput } from './errors';

/**
 * Binary units, as nats-server reads its own config (`max_file_store: 100GB` is 100 × 2^30 bytes), so an
 * operator can copy a number between the two without a silent 7 % difference.
 */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  k: 2 ** 10,
  kb: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mb: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gb: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tb: 2 ** 40,
  tib: 2 ** 40,
};
const BYTE_SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;
const MAX_INPUT_LEN = 32;

/** Parses `<number>[unit]` (B, KiB, MiB, GiB, TiB; KB/MB/GB/TB and K/M/G/T mean the same, binary) into whole bytes. */
export function parseByteSize(input: string, field: string): number {
  if (input.length === 0) throw new InvalidInput(`${field}: must not be empty`);
  const m = input.length <= MAX_INPUT_LEN ? BYTE_SIZE.exec(input.trim()) : null;
  const factor = m ? UNIT_BYTES[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || factor === undefined) {
    throw new InvalidInput(`${field}: expected a size like "8GiB", "512MiB" or a number of bytes, got ${describeValue(input)}`);
  }
  const bytes = Math.floor(Number(m[1]) * factor);
  if (!Number.isSafeInteger(bytes)) throw new InvalidInput(`${field}: size out of range`);
  return bytes;
}

/** A size for people: the largest binary unit that keeps at least 1, one decimal when it matters ("1.5 GiB", "200 MiB"). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || Number.isInteger(value) ? String(value) : value.toFixed(1).replace(/\.0$/, '');
  return `${shown} ${units[unit]}`;
}
