/**
 * The values kept in the presence buckets, and the pure rules that read them. Times are epoch
 * milliseconds in storage and RFC 3339 on the wire.
 */

/** `beam-presence` value: one broker-api instance holds control connection(s) from `proxyId` since `since`. */
export interface PresenceEntry {
  proxyId: string;
  since: number;
}

/** `beam-proxies` value: everything remembered about a proxy that was ever seen. */
export interface ProxyRecord {
  proxyId: string;
  first_seen: number;
  last_seen: number;
  last_disconnect?: number;
}

export type ProxyStatus =
  | { connected: true; proxyId: string; since: number; connections: number; record: ProxyRecord | undefined }
  | { connected: false; proxyId: string; lastDisconnect: number }
  | undefined;

/** The record after a heartbeat (or a new connection) at `now`. */
export function seen(record: ProxyRecord | undefined, proxyId: string, now: number): ProxyRecord {
  return { ...record, proxyId, first_seen: record?.first_seen ?? now, last_seen: Math.max(record?.last_seen ?? 0, now) };
}

/** The record after a clean close at `now`. */
export function disconnected(record: ProxyRecord | undefined, proxyId: string, now: number): ProxyRecord {
  return { ...seen(record, proxyId, now), last_disconnect: now };
}

/**
 * When the proxy was last connected. A clean close records `last_disconnect`; when the broker-api holding
 * the connection crashed instead, its presence keys merely expired, so the last heartbeat (`last_seen`) is
 * the best knowledge of the moment the proxy went away.
 */
export function lastDisconnectOf(record: ProxyRecord): number {
  return Math.max(record.last_seen, record.last_disconnect ?? 0);
}

/** Combines what the two buckets say: any live presence entry means connected. */
export function statusOf(proxyId: string, record: ProxyRecord | undefined, presence: PresenceEntry[]): ProxyStatus {
  if (presence.length > 0) {
    return { connected: true, proxyId, since: Math.min(...presence.map((p) => p.since)), connections: presence.length, record };
  }
  if (!record) return undefined;
  return { connected: false, proxyId, lastDisconnect: lastDisconnectOf(record) };
}

export function parsePresenceEntry(value: unknown): PresenceEntry | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  return typeof v.proxyId === 'string' && isTime(v.since) ? { proxyId: v.proxyId, since: v.since } : undefined;
}

export function parseProxyRecord(value: unknown): ProxyRecord | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.proxyId !== 'string' || !isTime(v.first_seen) || !isTime(v.last_seen)) return undefined;
  if (v.last_disconnect !== undefined && !isTime(v.last_disconnect)) return undefined;
  return {
    proxyId: v.proxyId,
    first_seen: v.first_seen,
    last_seen: v.last_seen,
    ...(v.last_disconnect === undefined ? {} : { last_disconnect: v.last_disconnect }),
  };
}

function isTime(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}
