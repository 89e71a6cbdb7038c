/**
 * Proxy presence in NATS KV, shared by every broker-api replica.
 * - `beam-presence` (TTL 30 s): `<proxyToken>.<instanceId>` → {proxyId, since} while this instance holds a
 *   control connection from the proxy; refreshed every 10 s, deleted on a clean close, and simply expiring
 *   when the instance dies.
 * - `beam-proxies` (no TTL): `<proxyToken>` → {proxyId, first_seen, last_seen, last_disconnect?}, updated
 *   with compare-and-set so replicas never lose each other's `first_seen`.
 */
import { Inject, Injectable } from '@nestjs/common';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { fromSubjectToken } from '@beamline/domain';
import { decodeJson, encodeJson, NATS_CONNECTION, openBucket, presenceKeys } from '@beamline/nats';
import { apiBuckets } from '../storage/api-buckets';
import { disconnected, parsePresenceEntry, parseProxyRecord, seen, statusOf, type PresenceEntry, type ProxyRecord, type ProxyStatus } from './presence-record';

const CAS_ATTEMPTS = 8;

@Injectable()
export class PresenceStore {
  private presenceBucket: Promise<KV> | undefined;
  private proxiesBucket: Promise<KV> | undefined;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /** This instance holds control connection(s) from `proxyId` since `since`; also a heartbeat. */
  async present(proxyId: string, instanceId: string, since: number, now = Date.now()): Promise<void> {
    const entry: PresenceEntry = { proxyId, since };
    await (await this.presence()).put(presenceKeys.connection(proxyId, instanceId), encodeJson(entry));
    await this.updateRecord(proxyId, (r) => seen(r, proxyId, now));
  }

  /** This instance no longer holds any control connection from `proxyId`. */
  async gone(proxyId: string, instanceId: string, now = Date.now()): Promise<void> {
    await (await this.presence()).delete(presenceKeys.connection(proxyId, instanceId));
    await this.updateRecord(proxyId, (r) => disconnected(r, proxyId, now));
  }

  /** Every ProxyId ever seen, sorted. */
  async proxies(): Promise<string[]> {
    const kv = await this.proxies_();
    const ids: string[] = [];
    for await (const key of await kv.keys()) ids.push(fromSubjectToken(key));
    return ids.sort();
  }

  async status(proxyId: string): Promise<ProxyStatus> {
    const [record, presence] = await Promise.all([this.record(proxyId), this.presenceOf(proxyId)]);
    return statusOf(proxyId, record, presence);
  }

  private async presenceOf(proxyId: string): Promise<PresenceEntry[]> {
    const kv = await this.presence();
    const keys: string[] = [];
    for await (const key of await kv.keys(presenceKeys.allConnections(proxyId))) keys.push(key);
    const entries = await Promise.all(
      keys.map(async (key) => {
        const e = await kv.get(key);
        if (!e || e.operation !== 'PUT') return undefined; // deleted or expired meanwhile
        return parsePresenceEntry(safeJson(e.value));
      }),
    );
    return entries.filter((e): e is PresenceEntry => e !== undefined);
  }

  private async record(proxyId: string): Promise<ProxyRecord | undefined> {
    const e = await (await this.proxies_()).get(presenceKeys.proxy(proxyId));
    return e && e.operation === 'PUT' ? parseProxyRecord(safeJson(e.value)) : undefined;
  }

  /** Read-modify-write of a proxy's record, retried when another replica wrote in between. */
  private async updateRecord(proxyId: string, change: (r: ProxyRecord | undefined) => ProxyRecord): Promise<void> {
    const kv = await this.proxies_();
    const key = presenceKeys.proxy(proxyId);
    for (let attempt = 1; ; attempt++) {
      const e = await kv.get(key);
      const current = e && e.operation === 'PUT' ? parseProxyRecord(safeJson(e.value)) : undefined;
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
    this.presenceBucket ??= openBucket(this.nc, apiBuckets.presence()).catch((err) => {
      this.presenceBucket = undefined;
      throw err;
    });
    return this.presenceBucket;
  }

  private proxies_(): Promise<KV> {
    this.proxiesBucket ??= openBucket(this.nc, apiBuckets.proxies()).catch((err) => {
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
