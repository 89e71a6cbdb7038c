import { parseBeamId } from './beam-id';
import { describeValue } from './describe-value';
import { DomainError, InvalidInput } from './errors';

/** A JSON object as received; read it only through `field`. */
export type JsonObject = Record<string, unknown>;

/** Asserts `json` is a plain JSON object (not null, not an array). */
export function expectObject(json: unknown, field = 'body'): JsonObject {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new InvalidInput(`${field}: expected a JSON object`);
  }
  return json as JsonObject;
}

/** Reads an own property only (never the prototype chain, so `__proto__` tricks are inert). */
export function field(obj: JsonObject, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

/** Requires a string value. */
export function expectString(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new InvalidInput(`${name}: expected a string, got ${v === undefined ? 'nothing' : describeValue(v)}`);
  return v;
}

/** Requires a safe integer >= 0. */
export function expectNonNegativeInt(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new InvalidInput(`${name}: expected a non-negative integer, got ${v === undefined ? 'nothing' : describeValue(v)}`);
  }
  return v;
}

/** Requires a non-empty array of distinct BeamIds. */
export function expectRecipients(v: unknown, name: string, max = Number.MAX_SAFE_INTEGER): string[] {
  if (!Array.isArray(v)) throw new InvalidInput(`${name}: expected an array of BeamIds`);
  if (v.length === 0) throw new InvalidInput(`${name}: must not be empty`);
  // Before any entry is parsed: the work a message causes grows with its recipients.
  if (v.length > max) throw new InvalidInput(`${name}: at most ${max} recipients, got ${v.length}`, 'too_many_recipients');
  const seen = new Set<string>();
  return v.map((entry, i) => {
    const id = parseBeamId(entry, `${name}[${i}]`);
    if (seen.has(id)) throw new InvalidInput(`${name}: duplicate recipient ${id}`);
    seen.add(id);
    return id;
  });
}

/** Runs a parser and turns any non-domain exception (e.g. a throwing getter) into InvalidInput. */
export function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw new InvalidInput('body: malformed input');
  }
}
