/**
 * Nesting limits for untrusted JSON. Parsing deep JSON is cheap, but everything after it (JSON.stringify,
 * canonical JSON, the signed message) recurses, so a document nested thousands of levels deep would make a
 * later step throw RangeError (a 500) or, once stored, break every reader of the task. Samply.Beam's
 * serde_json refuses documents nested deeper than 128 levels; so do we.
 */

/** The deepest nesting of arrays/objects accepted in any JSON document (serde_json's default limit). */
export const MAX_JSON_DEPTH = 128;

/**
 * True when the JSON *text* nests arrays/objects deeper than `max` (a linear scan, strings skipped, no parse).
 * Malformed text is not judged here: JSON.parse reports it.
 */
export function jsonTextTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** True when a parsed JSON value nests arrays/objects deeper than `max` (a scalar has depth 0). Iterative. */
export function jsonValueTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  const stack: Array<{ v: unknown; d: number }> = [{ v: value, d: 0 }];
  while (stack.length > 0) {
    const { v, d } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, d: d + 1 });
  }
  return false;
}
