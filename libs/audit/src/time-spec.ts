import { parseDuration } from '@beamline/domain';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A point in time for `--since` / `--until`: RFC 3339 (`2025-06-01T12:00:00Z`, an offset, or a date alone
 * as UTC midnight), or a duration ago (`90s`, `15m`, `1h`, `7d`, `1.5h`). `now` in ms.
 * @throws Error with a one-line message on anything else.
 */
export function parseTimeSpec(value: string, now: number = Date.now()): number {
  const v = value.trim();
  if (RFC3339.test(v) || DATE_ONLY.test(v)) {
    const t = Date.parse(DATE_ONLY.test(v) ? `${v}T00:00:00Z` : v);
    if (!Number.isNaN(t)) return t;
  }
  if (/^\d+(?:\.\d+)?(?:ms|s|m|h|d)$/.test(v)) return now - parseDuration(v, 'time');
  throw new Error(`expected an RFC 3339 time (2025-06-01T12:00:00Z) or a duration ago (30m, 1h, 7d), got ${JSON.stringify(value)}`);
}
