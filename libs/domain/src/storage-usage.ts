/**
 * When a store (a JetStream stream or KV bucket) is close enough to its byte limit to matter: the pure rules
 * behind broker-api's health reasons and its refusal of client writes before the event log is truly full.
 */
import { formatBytes } from './byte-size';
import { StorageFull } from './errors';

/** What a store does at its limit: refuse writes (discard new), or drop its oldest messages (discard old). */
export type WhenFull = 'refuse' | 'drop_oldest';

export interface StoreUsage {
  /** The stream's name, e.g. `BEAM_EVENTS` or `KV_beam-nonces`. */
  store: string;
  usedBytes: number;
  /** 0 or less: the store has no limit. */
  maxBytes: number;
  whenFull: WhenFull;
  /** The share of the limit at which writes are refused (default 1: at JetStream's own limit). */
  writesStopAt?: number;
}

/** From here on health reports a store as nearing its limit. */
export const STORAGE_WARN_RATIO = 0.8;

/**
 * Clients' writes to BEAM_EVENTS stop at this share of its limit. The rest is the broker's own headroom: the
 * expiry leader must still append TaskExpired (a few hundred bytes) to purge expired tasks, which is how a
 * full log frees itself; without headroom one last client write could take that room and nothing would recover.
 */
export const CLIENT_WRITES_STOP_AT = 0.95;

/** The share of its limit a store uses (0..1+), or undefined when it has no limit. */
export function usedRatio(u: StoreUsage): number | undefined {
  return u.maxBytes > 0 ? u.usedBytes / u.maxBytes : undefined;
}

/** One sentence per store at or beyond {@link STORAGE_WARN_RATIO} of its limit, naming it, its usage and the consequence. */
export function storageReasons(usages: readonly StoreUsage[]): string[] {
  const reasons: string[] = [];
  for (const u of usages) {
    const ratio = usedRatio(u);
    if (ratio === undefined || ratio < STORAGE_WARN_RATIO) continue;
    reasons.push(`${u.store} at ${describeUsage(u)}: ${consequence(u, ratio)}`);
  }
  return reasons;
}

/**
 * Throws {@link StorageFull} when a write of `bytes` would take the store past the share of its limit where
 * writes stop. Without a known usage or limit it admits: JetStream's own limit still refuses a write without room.
 */
export function assertRoomFor(usage: StoreUsage | undefined, bytes: number): void {
  if (!usage || usage.maxBytes <= 0) return;
  const stopAt = usage.writesStopAt ?? 1;
  if (usage.usedBytes + bytes <= Math.floor(usage.maxBytes * stopAt)) return;
  throw new StorageFull(
    usage.store,
    `${usage.store} is full: ${describeUsage(usage)} used, and writes stop at ${percent(stopAt)}; retry once expired tasks have been purged`,
  );
}

/** `96% of its 200 MiB limit (192 MiB)` */
export function describeUsage(u: StoreUsage): string {
  const ratio = usedRatio(u);
  if (ratio === undefined) return `${formatBytes(u.usedBytes)} (no limit)`;
  return `${percent(ratio)} of its ${formatBytes(u.maxBytes)} limit (${formatBytes(u.usedBytes)})`;
}

function consequence(u: StoreUsage, ratio: number): string {
  if (u.whenFull === 'drop_oldest') return 'at its limit its oldest messages are dropped to make room';
  const stopAt = u.writesStopAt ?? 1;
  if (ratio >= stopAt) return 'new writes are refused (507 storage_full) until space frees up';
  return `new writes will be refused from ${percent(stopAt)}`;
}

/** Rounded down, so a store is never shown as 100% before it is. */
function percent(ratio: number): string {
  return `${Math.floor(ratio * 100)}%`;
}
