/** Short, safe rendering of an untrusted value for error messages (never echoes huge strings). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') {
    const s = v.length > 40 ? `${v.slice(0, 40)}...` : v;
    return JSON.stringify(s);
  }
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `a value of type ${typeof v}`;
}
