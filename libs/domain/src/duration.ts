import { describeValue } from './describe-value';
import { InvalidInput } from './errors';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const MAX_INPUT_LEN = 64;

/** Converts a value in `unit` to whole milliseconds, tolerating float noise (1.1s -> 1100) and rounding true fractions up. */
function toMs(value: number, factor: number): number {
  const raw = value * factor;
  const nearest = Math.round(raw);
  return Math.abs(raw - nearest) < 1e-6 ? nearest : Math.ceil(raw);
}

/** Parses `<number><unit>` (ms|s|m|h|d, decimals allowed) or a bare number / numeric string of seconds into milliseconds. */
export function parseDuration(input: unknown, field: string): number {
  let ms: number;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new InvalidInput(`${field}: must be a finite duration, got ${describeValue(input)}`);
    if (input < 0) throw new InvalidInput(`${field}: must not be negative`);
    ms = toMs(input, 1_000);
  } else if (typeof input === 'string') {
    if (input.length === 0) throw new InvalidInput(`${field}: must not be empty`);
    if (input.length > MAX_INPUT_LEN) throw new InvalidInput(`${field}: duration too long`);
    if (input.startsWith('-')) throw new InvalidInput(`${field}: must not be negative`);
    const m = DURATION.exec(input);
    if (!m) throw new InvalidInput(`${field}: expected a duration like "30s", "5m", "1.5h" or a number of seconds, got ${describeValue(input)}`);
    const value = Number(m[1]);
    if (!Number.isFinite(value)) throw new InvalidInput(`${field}: duration out of range`);
    ms = toMs(value, UNIT_MS[m[2] ?? 's']);
  } else {
    throw new InvalidInput(`${field}: expected a duration string or number, got ${describeValue(input)}`);
  }
  if (!Number.isFinite(ms) || ms > Number.MAX_SAFE_INTEGER) throw new InvalidInput(`${field}: duration out of range`);
  return ms;
}

/** Formats a remaining time as whole seconds rounded up, never negative: 59001 -> "60s", -5 -> "0s". */
export function formatRemainingTtl(ms: number): string {
  if (!(ms > 0)) return '0s';
  return `${Math.ceil(ms / 1000)}s`;
}
