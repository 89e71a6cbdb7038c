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

/**
 * About the smallest write a client makes (a task with a near-empty body: its signed message and envelope).
 * A store with less room than this before its writes stop refuses every write, so health says so.
 */
export const SMALLEST_WRITE_BYTES = 4 * 1024;

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
    reasons.push(`${u.store} at ${describeUsage(u)}: ${consequence(u)}`);
  }
  return reasons;
}

/**
 * Throws {@link StorageFull} when a write of `bytes` would take the store past the share of its limit where
 * writes stop. Without a known usage or limit it admits: JetStream's own limit still refuses a write without room.
 */
export function assertRoomFor(usage: StoreUsage | undefined, bytes: number): void {
  if (!usage || usage.maxBytes <= 0) return;
  if (usage.usedBytes + bytes <= writesStopBytes(usage)) return;
  throw new StorageFull(
    usage.store,
    `${usage.store} has no room for this write (${formatBytes(bytes)}): ${describeUsage(usage)} used, and writes stop at ${percent(usage.writesStopAt ?? 1)}; ` +
      'retry once expired tasks have been purged',
  );
}

/** `96% of its 200 MiB limit (192 MiB)` */
export function describeUsage(u: StoreUsage): string {
  const ratio = usedRatio(u);
  if (ratio === undefined) return `${formatBytes(u.usedBytes)} (no limit)`;
  return `${percent(ratio)} of its ${formatBytes(u.maxBytes)} limit (${formatBytes(u.usedBytes)})`;
}

function consequence(u: StoreUsage): string {
  if (u.whenFull === 'drop_oldest') return 'at its limit its oldest messages are dropped to make room';
  if (u.usedBytes + SMALLEST_WRITE_BYTES > writesStopBytes(u)) return 'new writes are refused (507 storage_full) until space frees up';
  return `new writes will be refused from ${percent(u.writesStopAt ?? 1)}`;
}

function writesStopBytes(u: StoreUsage): number {
  return Math.floor(u.maxBytes * (u.writesStopAt ?? 1));
}

/** To a tenth, rounded down, so a store is never shown as full before it is: `85%`, `94.9%`. */
function percent(ratio: number): string {
  return `${(Math.floor(ratio * 1000 + 1e-9) / 10).toString()}%`;
}
