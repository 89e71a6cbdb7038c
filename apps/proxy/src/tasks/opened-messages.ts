/**
 * Messages this proxy verified and opened lately, by reader and message digest. Every long-poll that a
 * write wakes answers with the same tasks: without this, a thousand waiting polls of one app cost a
 * thousand signature checks and RSA key unwraps per task; with it, one. An entry is used only while the
 * certificate that signed it is still valid and not revoked, so a revocation takes effect as before.
 * Plaintext stays in this process's memory a little longer (bounded by bytes), never anywhere else.
 */
import { LRUCache } from 'lru-cache';
import { readJwsKid, sha256Base64Url } from '@beamline/crypto';

/** What is kept: small messages only (a big body is rare and would push out everything else). */
const CACHE_BYTES = 16 * 1024 * 1024;
const MAX_CACHED_MESSAGE_CHARS = 256 * 1024;

interface Entry {
  kid: string;
  value: unknown;
  size: number;
}

export class OpenedMessages {
  private readonly entries = new LRUCache<string, Entry>({ maxSize: CACHE_BYTES, sizeCalculation: (e) => e.size });
  /** Openings under way: the thousand polls that end at one moment share the first one's work. */
  private readonly opening = new Map<string, Promise<unknown>>();

  constructor(private readonly stillTrusted: (kid: string) => Promise<boolean>) {}

  /** `open()`'s value for `jws` as `reader` sees it, from the cache when this exact message was opened for them. */
  async open<T>(reader: string, jws: string, open: () => Promise<T>): Promise<T> {
    if (jws.length > MAX_CACHED_MESSAGE_CHARS) return open();
    const key = `${reader} ${sha256Base64Url(jws)}`;
    const hit = this.entries.get(key);
    if (hit && (await this.stillTrusted(hit.kid))) return hit.value as T;
    const underway = this.opening.get(key);
    if (underway) return underway as Promise<T>;
    const opened = open().then((value) => {
      // Sized by the message and its body: a body kept as a blob is far larger than the message that names it.
      const size = jws.length + bodyChars(value);
      if (size <= MAX_CACHED_MESSAGE_CHARS) this.entries.set(key, { kid: readJwsKid(jws), value, size });
      return value;
    });
    this.opening.set(key, opened);
    return opened.finally(() => this.opening.delete(key));
  }
}

function bodyChars(value: unknown): number {
  const body = (value as { body?: unknown } | null)?.body;
  return typeof body === 'string' ? body.length : 0;
}
