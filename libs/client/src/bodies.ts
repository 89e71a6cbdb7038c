/**
 * Bodies on the wire are strings (Beam encrypts a string). These turn the caller's bodies into that
 * string and back, as the call's {@link BodyFormat} says.
 */
import { BeamBodyError } from './errors';
import type { BodyFormat, TaskRequest, TaskResult } from './types';

/** The wire string for a body. `undefined` stays undefined (a `claimed` result has no body). */
export function encodeBody(body: unknown, format: BodyFormat): string | undefined {
  if (body === undefined) return undefined;
  if (format === 'string' && typeof body === 'string') return body;
  const text = JSON.stringify(body) as string | undefined;
  // JSON.stringify answers undefined for functions and symbols: such a body cannot travel.
  if (text === undefined) throw new TypeError(`a body must be JSON-serialisable, got ${typeof body}`);
  return text;
}

/** The caller's body for a wire string; `what` names the message in an error. */
export function decodeBody<T>(raw: unknown, format: BodyFormat, what: string): T | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw new BeamBodyError(`${what}: the body is not a string`, JSON.stringify(raw), undefined);
  if (format === 'string') return raw as T;
  try {
    return JSON.parse(raw) as T;
  } catch (err) {
    throw new BeamBodyError(`${what}: the body is not JSON (read it with bodies: 'string')`, raw, err);
  }
}

/** A received task with its body decoded. */
export function decodeTask<T>(task: TaskRequest<unknown>, format: BodyFormat): TaskRequest<T> {
  return { ...task, body: decodeBody<T>(task.body, format, `task ${task.id}`) as T };
}

/** A received result with its body decoded; a result without a body (claimed) keeps none. */
export function decodeResult<T>(result: TaskResult<unknown>, format: BodyFormat): TaskResult<T> {
  const { body, ...rest } = result;
  const decoded = decodeBody<T>(body, format, `result of ${result.from} on task ${result.task}`);
  return decoded === undefined ? rest : { ...rest, body: decoded };
}
