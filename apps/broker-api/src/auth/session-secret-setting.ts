/**
 * How broker-api takes its session secret: `SESSION_SECRET` (hex or base64 text) or `SESSION_SECRET_FILE` (a
 * file holding that text), exactly one of them. There is no default and nothing is kept in NATS: whoever holds
 * the secret can authenticate requests as any enrolled proxy, so it must not be readable by everyone who can
 * read NATS. The dev network (libs/devnet) makes a random one and passes it to every replica.
 */
import { readFileSync } from 'node:fs';

/** The least a secret must hold: 256 bits. */
export const SESSION_SECRET_MIN_BYTES = 32;
/**
 * 32 random bytes take ~30 distinct values; fewer than 16 means a pattern (`aaaa…`, `0000…`, a short word
 * repeated), not a secret. A cheap check that catches placeholders, not a proof of randomness.
 */
const MIN_DISTINCT_BYTES = 16;

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2,3})?$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The secret's bytes from its text: hex, else base64 or base64url; at least 32 bytes that look random. */
export function parseSessionSecret(raw: string): Buffer {
  const text = raw.trim();
  let bytes: Buffer;
  if (HEX.test(text)) bytes = Buffer.from(text, 'hex');
  else if (BASE64.test(text)) bytes = Buffer.from(text, 'base64');
  else if (BASE64URL.test(text)) bytes = Buffer.from(text, 'base64url');
  else throw new Error(`expected hex or base64, at least ${SESSION_SECRET_MIN_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`);
  if (bytes.length < SESSION_SECRET_MIN_BYTES) throw new Error(`expected at least ${SESSION_SECRET_MIN_BYTES} bytes, hex or base64, got ${bytes.length}`);
  if (new Set(bytes).size < MIN_DISTINCT_BYTES)
    throw new Error(`does not look random (${new Set(bytes).size} distinct byte values); make one with \`openssl rand -hex 32\``);
  return bytes;
}

/** `SESSION_SECRET_FILE`: the file's text, parsed as `SESSION_SECRET` is. */
export function readSessionSecretFile(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return parseSessionSecret(text);
}

/** Throws unless exactly one of the two variables is set. */
export function requireOneSessionSecret(env: Readonly<Record<string, string | undefined>>): void {
  const inline = Boolean(env.SESSION_SECRET);
  const file = Boolean(env.SESSION_SECRET_FILE);
  if (inline && file) throw new Error('SESSION_SECRET: set either SESSION_SECRET or SESSION_SECRET_FILE, not both');
  if (!inline && !file)
    throw new Error(
      'SESSION_SECRET: required (or SESSION_SECRET_FILE): the secret every broker-api replica derives session keys from, ' +
        `at least ${SESSION_SECRET_MIN_BYTES} random bytes in hex or base64, the same on every replica (e.g. \`openssl rand -hex 32\`)`,
    );
}
