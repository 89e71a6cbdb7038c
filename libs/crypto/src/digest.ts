import { KeyObject, createHash, createHmac, hkdfSync } from 'crypto';
import { toBytes } from './encoding';
import { CryptoError } from './errors';

const DIGEST_KEY_INFO = 'beamline message digest v1';

/** SHA-256 of `data` (strings as UTF-8), base64url without padding. */
export function sha256Base64Url(data: string | Uint8Array): string {
  return createHash('sha256').update(toBytes(data)).digest('base64url');
}

/**
 * Keyed digest of a plaintext message, so a proxy (or any replica sharing its key) can tell an identical
 * retry from a conflicting one without revealing the plaintext: HMAC-SHA-256 keyed with a key derived
 * (HKDF-SHA-256, empty salt, info "beamline message digest v1", 32 bytes) from the private key's PKCS#8 DER.
 */
export function messageDigestKey(privateKey: KeyObject): Buffer {
  if (privateKey.type !== 'private') throw new CryptoError('malformed', 'messageDigestKey needs a private key');
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return Buffer.from(hkdfSync('sha256', der, Buffer.alloc(0), DIGEST_KEY_INFO, 32));
}

/** HMAC-SHA-256(key, UTF-8 of `canonicalJson`), base64url without padding. */
export function keyedDigest(key: Buffer, canonicalJson: string): string {
  return createHmac('sha256', key).update(canonicalJson, 'utf8').digest('base64url');
}

/**
 * Canonical JSON: `JSON.stringify` semantics (toJSON honoured, undefined/function members omitted,
 * non-finite numbers → null) with object keys sorted recursively by UTF-16 code units and no whitespace.
 * @throws CryptoError('malformed') for cycles, BigInt, or a top-level value with no JSON form.
 */
export function canonicalJson(value: unknown): string {
  const out = serialize(value, new Set());
  if (out === undefined) throw new CryptoError('malformed', 'value has no JSON representation');
  return out;
}

function serialize(value: unknown, stack: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new CryptoError('malformed', 'BigInt has no JSON representation');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      return value === null ? 'null' : serializeObject(value, stack);
  }
}

function serializeObject(obj: object, stack: Set<object>): string {
  if (stack.has(obj)) throw new CryptoError('malformed', 'cyclic value');
  stack.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = '[' + obj.map((v) => serialize(v, stack) ?? 'null').join(',') + ']';
  } else {
    const rec = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const k of Object.keys(rec).sort()) {
      const v = serialize(rec[k], stack);
      if (v !== undefined) parts.push(JSON.stringify(k) + ':' + v);
    }
    out = '{' + parts.join(',') + '}';
  }
  stack.delete(obj);
  return out;
}
