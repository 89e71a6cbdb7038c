/**
 * The two presence buckets (see PRESENCE_BUCKET in subjects.ts) as stored: keys and JSON values, with the
 * values' meaning left to the caller.
 * - `beam-presence` (TTL): `<proxyToken>.<instanceId>` → one instance's control connection(s) from a proxy.
 * - `beam-proxies` (no TTL): `<proxyToken>` → the proxy's record, updated with compare-and-set so replicas
 *   never lose each other's writes.
 * A value that is not JSON reads as undefined.
 */
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { fromSubjectToken } from '@beamline/domain';
import { openBucket, type BucketSpec } from './buckets';
import { decodeJson, encodeJson } from './codec';
import { presenceKeys } from './subjects';

const CAS_ATTEMPTS = 8;

export interface PresenceBucketSpecs {
  /** buckets.ts `presenceBucket` */
  presence: BucketSpec;
  /** buckets.ts `proxiesBucket` */
  proxies: BucketSpec;
}

export class PresenceBuckets {
  private presenceBucket: Promise<KV> | undefined;
  private proxiesBucket: Promise<KV> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly specs: PresenceBucketSpecs,
  ) {}

  /** Writes (or refreshes) this instance's presence entry for `proxyId`. */
  async putConnection(proxyId: string, instanceId: string, value: unknown): Promise<void> {
    await (await this.presence()).put(presenceKeys.connection(proxyId, instanceId), encodeJson(value));
  }

  async deleteConnection(proxyId: string, instanceId: string): Promise<void> {
    await (await this.presence()).delete(presenceKeys.connection(proxyId, instanceId));
  }

  /** The values of every instance's live presence entries for `proxyId` (those that are JSON). */
  async connections(proxyId: string): Promise<unknown[]> {
    const kv = await this.presence();
    const keys: string[] = [];
    for await (const key of await kv.keys(presenceKeys.allConnections(proxyId))) keys.push(key);
    const values = await Promise.all(
      keys.map(async (key) => {
        const e = await kv.get(key);
        return e && e.operation === 'PUT' ? safeJson(e.value) : undefined; // undefined: deleted or expired meanwhile
      }),
    );
    return values.filter((v) => v !== undefined);
  }

  /** Every ProxyId with a record, in key order. */
  async proxyIds(): Promise<string[]> {
    const kv = await this.proxies();
    const ids: string[] = [];
    for await (const key of await kv.keys()) ids.push(fromSubjectToken(key));
    return ids;
  }

  /** The proxy's record; undefined when it has none. */
  async proxyRecord(proxyId: string): Promise<unknown> {
    const e = await (await this.proxies()).get(presenceKeys.proxy(proxyId));
    return e && e.operation === 'PUT' ? safeJson(e.value) : undefined;
  }

  /**
   * Read-modify-write of a proxy's record, retried when another replica wrote in between. `change` gets the
   * current record (undefined when none) and returns the one to store.
   */
  async updateProxyRecord(proxyId: string, change: (current: unknown) => unknown): Promise<void> {
    const kv = await this.proxies();
    const key = presenceKeys.proxy(proxyId);
    for (let attempt = 1; ; attempt++) {
      const e = await kv.get(key);
      const current = e && e.operation === 'PUT' ? safeJson(e.value) : undefined;
      const next = encodeJson(change(current));
      try {
        if (e) await kv.update(key, next, e.revision);
        else await kv.create(key, next);
        return;
      } catch (err) {
        if (attempt >= CAS_ATTEMPTS || !/wrong last sequence|key exists/i.test(String(err))) throw err;
      }
    }
  }

  private presence(): Promise<KV> {
    this.presenceBucket ??= openBucket(this.nc, this.specs.presence).catch((err) => {
      this.presenceBucket = undefined;
      throw err;
    });
    return this.presenceBucket;
  }

  private proxies(): Promise<KV> {
    this.proxiesBucket ??= openBucket(this.nc, this.specs.proxies).catch((err) => {
      this.proxiesBucket = undefined;
      throw err;
    });
    return this.proxiesBucket;
  }
}

function safeJson(data: Uint8Array): unknown {
  try {
    return decodeJson(data);
  } catch {
    return undefined;
  }
}
