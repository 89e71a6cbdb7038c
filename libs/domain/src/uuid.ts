import { describeValue } from './describe-value';
import { InvalidInput } from './errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Accepts any RFC 4122 textual UUID (any version, either case) and returns it lowercased. */
export function parseUuid(s: unknown, field: string): string {
  if (typeof s !== 'string' || !UUID.test(s)) throw new InvalidInput(`${field}: expected a UUID, got ${describeValue(s)}`);
  return s.toLowerCase();
}
