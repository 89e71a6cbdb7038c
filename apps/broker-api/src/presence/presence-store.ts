/**
 * Proxy presence in NATS KV, shared by every broker-api replica.
 * - `beam-presence` (TTL 30 s): `<proxyToken>.<instanceId>` → {proxyId, since} while this instance holds a
 *   control connection from the proxy; refreshed every 10 s, deleted on a clean close, and simply expiring
 *   when the instance dies.
 * - `beam-proxies` (no TTL): `<proxyToken>` → {proxyId, first_seen, last_seen, last_disconnect?}, updated
 *   with compare-and-set so replicas never lose each other's `first_seen`.
 */
import { Injectable } from '@nestjs/common';
import { PresenceBuckets } from '@beamline/nats';
import { disconnected, parsePresenceEntry, parseProxyRecord, seen, statusOf, type PresenceEntry, type ProxyStatus } from './presence-record';

@Injectable()
export class PresenceStore {
  constructor(private readonly buckets: PresenceBuckets) {}

  /** This instance holds control connection(s) from `proxyId` since `since`; also a heartbeat. */
  async present(proxyId: string, instanceId: string, since: number, now = Date.now()): Promise<void> {
    const entry: PresenceEntry = { proxyId, since };
    await this.buckets.putConnection(proxyId, instanceId, entry);
    await this.buckets.updateProxyRecord(proxyId, (r) => seen(parseProxyRecord(r), proxyId, now));
  }

  /** This instance no longer holds any control connection from `proxyId`. */
  async gone(proxyId: string, instanceId: string, now = Date.now()): Promise<void> {
    await this.buckets.deleteConnection(proxyId, instanceId);
    await this.buckets.updateProxyRecord(proxyId, (r) => disconnected(parseProxyRecord(r), proxyId, now));
  }

  /** Every ProxyId ever seen, sorted. */
  async proxies(): Promise<string[]> {
    return (await this.buckets.proxyIds()).sort();
  }

  async status(proxyId: string): Promise<ProxyStatus> {
    const [record, presence] = await Promise.all([this.buckets.proxyRecord(proxyId), this.buckets.connections(proxyId)]);
    return statusOf(
      proxyId,
      parseProxyRecord(record),
      presence.map(parsePresenceEntry).filter((e): e is PresenceEntry => e !== undefined),
    );
  }
}
