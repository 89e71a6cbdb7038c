/**
 * What Beamline reserves in JetStream: every stream and bucket with its byte limit and the setting behind it.
 * nats-server reserves a stream's `max_bytes` against its `max_file_store` when the stream is created or
 * grown, and refuses the stream when the reservations would exceed it; so with every store limited, each
 * has its own space and a full event log cannot starve the leases, presence or nonces. These are also the
 * messages that turn JetStream's terse refusals into what an operator should change.
 */
import { formatBytes, type WhenFull } from '@beamline/domain';
import { bucketStream, FIXED_BUCKET_BYTES } from './buckets';
import { isJsError, JsCodes } from './jetstream-codes';
import { STORAGE_LIMIT_SETTINGS, type StorageLimits } from './storage-settings';
import { StartupFailure } from './startup-retry';
import { AUDIT_STREAM, BLOBS_STREAM, EVENTS_STREAM, LEASE_BUCKET, NONCE_BUCKET, PKI_STREAM, PRESENCE_BUCKET, PROXIES_BUCKET } from './subjects';

export interface BudgetEntry {
  /** The JetStream stream (a bucket's is `KV_<bucket>`). */
  store: string;
  /** The environment variable that sets its limit, or why it is fixed. */
  setting: string;
  maxBytes: number;
  whenFull: WhenFull;
}

/** Every store Beamline creates, with its limit. Each node of a cluster holds one replica of each. */
export function storageBudget(limits: StorageLimits): BudgetEntry[] {
  const s = STORAGE_LIMIT_SETTINGS;
  return [
    { store: EVENTS_STREAM, setting: s.eventsMaxBytes, maxBytes: limits.eventsMaxBytes, whenFull: 'refuse' },
    { store: AUDIT_STREAM, setting: s.auditMaxBytes, maxBytes: limits.auditMaxBytes, whenFull: 'drop_oldest' },
    { store: PKI_STREAM, setting: s.pkiMaxBytes, maxBytes: limits.pkiMaxBytes, whenFull: 'refuse' },
    { store: bucketStream(NONCE_BUCKET), setting: s.noncesMaxBytes, maxBytes: limits.noncesMaxBytes, whenFull: 'refuse' },
    { store: bucketStream(PRESENCE_BUCKET), setting: s.presenceMaxBytes, maxBytes: limits.presenceMaxBytes, whenFull: 'refuse' },
    { store: bucketStream(PROXIES_BUCKET), setting: s.presenceMaxBytes, maxBytes: limits.presenceMaxBytes, whenFull: 'refuse' },
    { store: BLOBS_STREAM, setting: s.blobsMaxBytes, maxBytes: limits.blobsMaxBytes, whenFull: 'refuse' },
    { store: bucketStream(LEASE_BUCKET), setting: 'fixed', maxBytes: FIXED_BUCKET_BYTES, whenFull: 'refuse' },
  ];
}

/** The `max_file_store` each nats-server node needs at least for `limits` (before any other stream on it). */
export function totalReservation(limits: StorageLimits): number {
  return storageBudget(limits).reduce((sum, e) => sum + e.maxBytes, 0);
}

/**
 * JetStream's refusal to reserve a stream's `max_bytes`: 10047 "insufficient storage resources available" on
 * one server (and on a cluster for an update), 10005 "no suitable peers for placement, insufficient storage"
 * when a cluster places a new stream (nats-server 2.9.10).
 */
export function isReservationRefused(err: unknown): boolean {
  return (
    isJsError(err, JsCodes.StorageResourcesExceeded) ||
    isJsError(err, JsCodes.InsufficientResources) ||
    isJsError(err, JsCodes.ClusterNoPeers, /insufficient storage/i)
  );
}

/** Start-up error when nats-server's store cannot hold Beamline's limits: names every setting and the total. */
export function reservationError(store: string, limits: StorageLimits, cause: unknown): Error {
  const budget = storageBudget(limits);
  const entry = budget.find((e) => e.store === store);
  const parts = budget.filter((e) => e.setting !== 'fixed');
  const fixed = budget.filter((e) => e.setting === 'fixed').reduce((sum, e) => sum + e.maxBytes, 0);
  const list = [...new Set(parts.map((e) => e.setting))]
    .map((setting) => {
      const bytes = parts.filter((e) => e.setting === setting).map((e) => e.maxBytes);
      return `${setting}=${formatBytes(bytes[0])}${bytes.length > 1 ? ` (×${bytes.length} buckets)` : ''}`;
    })
    .join(', ');
  return new StartupFailure(
    `JetStream cannot reserve ${entry ? formatBytes(entry.maxBytes) : 'the limit'} for ${store}${entry && entry.setting !== 'fixed' ? ` (${entry.setting})` : ''}: ` +
      `nats-server's jetstream max_file_store must hold all of Beamline's limits at once, ${formatBytes(totalReservation(limits))} per node ` +
      `(${list}, and ${formatBytes(fixed)} for the lease bucket), plus any other stream on the server. ` +
      `Raise max_file_store in the nats-server config, or lower these settings. (JetStream: ${(cause as Error)?.message ?? String(cause)})`,
  );
}

/** Start-up error instead of a config update with which JetStream would delete stored messages to fit. */
export function shrinkError(entry: BudgetEntry, usedBytes: number): Error {
  return new StartupFailure(
    `${entry.setting}=${formatBytes(entry.maxBytes)} is less than ${entry.store} holds now (${formatBytes(usedBytes)}); ` +
      `lowering its limit below that would make JetStream delete acknowledged messages. Keep ${entry.setting} at least ` +
      `${formatBytes(usedBytes)} until the store has shrunk (expired tasks are purged, nonces and presence age out).`,
  );
}
