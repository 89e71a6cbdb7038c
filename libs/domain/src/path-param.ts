import { InvalidInput } from './errors';

/** A percent-decoded path segment; a malformed escape (`%ZZ`) is the caller's error (400), not ours. */
export function decodePathParam(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidInput(`${name}: not a valid percent-encoded path segment`);
  }
}
