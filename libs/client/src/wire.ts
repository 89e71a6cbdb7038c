/** Small pieces of the wire protocol: query strings, JSON answers, message defaults, wait counters. */
import { randomUUID } from 'node:crypto';
import { BeamError } from './errors';
import { encodeBody } from './bodies';
import type { BodyFormat, FailureStrategy, NewResult, NewTask, TaskRequest, TaskResult, WaitCounter, WaitOptions } from './types';

/** The time to live of a task that does not name one (Samply.Beam's walkthrough uses 60 s). */
export const DEFAULT_TTL = '60s';

/** The failure strategy of a task that does not name one (the one of Samply.Beam's walkthrough). */
export const DEFAULT_FAILURE_STRATEGY: FailureStrategy = { retry: { backoff_millisecs: 1000, max_tries: 5 } };

/** A path with a query string from the defined parameters. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined) query.set(name, String(value));
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}

/** `wait_count` and `wait_time` (in ms, the proxy's finest unit) for a long-poll, checked before anything is sent. */
export function waitParams(wait: WaitOptions): { wait_count?: number; wait_time?: string } {
  const { waitCount, waitTimeMs } = wait;
  if (waitCount !== undefined && !(Number.isSafeInteger(waitCount) && waitCount >= 0)) {
    throw new RangeError(`waitCount must be a non-negative integer, got ${waitCount}`);
  }
  if (waitTimeMs !== undefined && !(Number.isFinite(waitTimeMs) && waitTimeMs >= 0)) {
    throw new RangeError(`waitTimeMs must be a non-negative number of milliseconds, got ${waitTimeMs}`);
  }
  return { wait_count: waitCount, wait_time: waitTimeMs === undefined ? undefined : `${Math.max(0, Math.ceil(waitTimeMs))}ms` };
}

/**
 * JSON text with every non-ASCII character escaped (`\u00e9`): the same value, but fit for an HTTP header,
 * where Node refuses characters beyond Latin-1 and the proxy would read Latin-1 as something else.
 */
export function asciiJson(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`metadata must be JSON-serialisable, got ${typeof value}`);
  return text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parses an answer that must be JSON. */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BeamError(`${what}: the proxy's answer is not JSON`, { code: 'invalid_response', cause: err });
  }
}

/** Parses an answer that must be a JSON array. */
export function parseJsonArray<T>(text: string, what: string): T[] {
  const value = parseJson(text, what);
  if (!Array.isArray(value)) throw new BeamError(`${what}: expected a JSON array from the proxy`, { code: 'invalid_response' });
  return value as T[];
}

/** A path segment: ids are UUIDs and app ids, but a caller's typo must not reach another route. */
export function segment(value: string, name: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  return encodeURIComponent(value);
}

/** The task as it goes on the wire: defaults filled in, the body encoded. */
export function wireTask(task: NewTask<unknown>, appId: string, format: BodyFormat): TaskRequest<string> {
  return {
    id: task.id ?? randomUUID(),
    from: task.from ?? appId,
    to: task.to,
    body: encodeBody(task.body, format) ?? '',
    ttl: task.ttl ?? DEFAULT_TTL,
    failure_strategy: task.failure_strategy ?? DEFAULT_FAILURE_STRATEGY,
    metadata: task.metadata === undefined ? null : task.metadata,
  };
}

/** The result as it goes on the wire: `from` and `metadata` filled in, the body encoded. */
export function wireResult(result: NewResult<unknown>, appId: string, format: BodyFormat): TaskResult<string> {
  const wire: TaskResult<string> = {
    from: result.from ?? appId,
    to: result.to,
    task: result.task,
    status: result.status,
    metadata: result.metadata === undefined ? null : result.metadata,
  };
  const body = encodeBody(result.body, format);
  if (body !== undefined) wire.body = body;
  return wire;
}

/**
 * True when a stored task is the one we sent: same sender, recipients, metadata and failure strategy.
 * The body cannot be compared (Beamline shows the creator `"<encrypted>"`), but a task's `from` is
 * always the authenticated app, so a task under our random id from our own app is ours.
 */
export function isSameTask(sent: TaskRequest<string>, stored: unknown): boolean {
  if (stored === null || typeof stored !== 'object') return false;
  const s = stored as Partial<TaskRequest<unknown>>;
  return (
    s.id === sent.id &&
    s.from === sent.from &&
    sameJson(s.to, sent.to) &&
    sameJson(s.metadata, sent.metadata) &&
    sameJson(s.failure_strategy, sent.failure_strategy)
  );
}

/** Structural equality of JSON values, independent of object key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** Counts results as the proxy does for `wait_count`: each worker's newest result, unless it is `claimed`. */
export class ResultCounter implements WaitCounter<TaskResult<unknown>> {
  private readonly newest = new Map<string, string>();

  add(result: TaskResult<unknown>): void {
    this.newest.set(result.from, result.status);
  }

  get count(): number {
    let n = 0;
    for (const status of this.newest.values()) if (status !== 'claimed') n++;
    return n;
  }
}

/** Counts distinct items by id: tasks, or files. */
export class IdCounter implements WaitCounter<{ id: string }> {
  private readonly ids = new Set<string>();

  add(item: { id: string }): void {
    this.ids.add(item.id);
  }

  get count(): number {
    return this.ids.size;
  }
}
