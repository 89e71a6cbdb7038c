/** Strict base64 / base64url decoding: rejects anything that does not re-encode to itself. */

/** Decodes canonical, padded standard base64; `undefined` if `s` is not exactly that. */
export function decodeBase64Strict(s: unknown): Buffer | undefined {
  if (typeof s !== 'string') return undefined;
  const buf = Buffer.from(s, 'base64');
  return buf.toString('base64') === s ? buf : undefined;
}

/** Decodes canonical unpadded base64url; `undefined` if `s` is not exactly that. */
export function decodeBase64UrlStrict(s: unknown): Buffer | undefined {
  if (typeof s !== 'string') return undefined;
  const buf = Buffer.from(s, 'base64url');
  return buf.toString('base64url') === s ? buf : undefined;
}

/** UTF-8 bytes of a string, or the bytes themselves (no copy). */
export function toBytes(data: string | Uint8Array): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}
