import { describeValue } from './describe-value';
import { parseDuration } from './duration';
import { InvalidInput } from './errors';
import type { WorkStatus } from './messages';

/** A long-poll condition: wait until `waitCount` items match, at most `waitMs`. */
export interface WaitParams {
  waitCount?: number;
  waitMs: number;
}
/** Default upper bound for any wait: 1 hour. */
export const DEFAULT_MAX_WAIT_MS = 3_600_000;
const MAX_WAIT_COUNT = 1_000_000;

function parseWaitCount(v: unknown): number {
  const name = 'wait_count';
  if (Array.isArray(v)) throw new InvalidInput(`${name}: given more than once`);
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\d{1,7}$/.test(v)) n = Number(v);
  else throw new InvalidInput(`${name}: expected a non-negative integer, got ${describeValue(v)}`);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidInput(`${name}: expected a non-negative integer, got ${describeValue(v)}`);
  if (n > MAX_WAIT_COUNT) throw new InvalidInput(`${name}: must be at most ${MAX_WAIT_COUNT}`);
  return n;
}

function parseWaitTime(v: unknown, maxWaitMs: number): number {
  if (Array.isArray(v)) throw new InvalidInput('wait_time: given more than once');
  return Math.min(parseDuration(v, 'wait_time'), maxWaitMs);
}

/**
 * Parses long-poll query params.
 * Neither -> {waitCount: undefined, waitMs: 0} (return at once); only wait_count -> waitMs = maxWaitMs;
 * only wait_time -> {waitCount: undefined, waitMs: T} (satisfied by the first item, see isWaitSatisfied);
 * both -> whichever comes first. wait_time is capped at maxWaitMs.
 */
export function parseWaitParams(query: { wait_count?: unknown; wait_time?: unknown }, maxWaitMs: number): WaitParams {
  const rawCount = query.wait_count;
  const rawTime = query.wait_time;
  const waitCount = rawCount === undefined ? undefined : parseWaitCount(rawCount);
  const waitMs = rawTime === undefined ? (waitCount === undefined ? 0 : maxWaitMs) : parseWaitTime(rawTime, maxWaitMs);
  return { waitCount, waitMs };
}

/** How many of these results count towards wait_count (claimed ones do not). */
export function countTowardsWait(statuses: WorkStatus[]): number {
  return statuses.filter((s) => s !== 'claimed').length;
}

/**
 * True when the wait is over: with a waitCount, once count >= waitCount; without one, at once when
 * waitMs is 0 (no params) or as soon as at least one item matches (wait_time only).
 */
export function isWaitSatisfied(count: number, params: WaitParams): boolean {
  return params.waitCount === undefined ? params.waitMs === 0 || count >= 1 : count >= params.waitCount;
}
