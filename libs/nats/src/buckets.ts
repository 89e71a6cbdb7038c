/**
 * The one place that knows Beamline's KV buckets: their TTLs, history and byte limits. Every bucket has a
 * limit, so JetStream reserves its space up front (see ensureStorage): the leases, presence and nonces keep
 * working when the event log is full.
 */
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { StorageSettings } from './storage-settings';
import { LEASE_BUCKET, NONCE_BUCKET, PRESENCE_BUCKET, PRESENCE_TTL_MS, PROXIES_BUCKET } from './subjects';

export interface BucketSpec {
  bucket: string;
  /** Entries vanish this long after their last write; none when undefined. */
  ttlMs?: number;
  maxBytes: number;
  /** A limit on entries beside the byte limit, for a bucket whose entries must never be dropped to make room. */
  maxEntries?: number;
  replicas: number;
}

/**
 * A lease is one small key, rewritten in place: 1 MiB is ample and not worth a setting. (A full bucket still accepts a rewrite of an existing key; only new keys are refused.)
 */
export const FIXED_BUCKET_BYTES = 2 ** 20;

/**
 * The most a nonce entry takes in the store: its subject (`$KV.beam-nonces.` and a nonce of at most 64
 * characters), the headers of a create and the store's own framing. Measured: 166 bytes with the longest
 * nonce on nats-server 2.9.10; the rest is margin. At the defaults (256 MiB, a window of 11 min) the bucket
 * holds ~1.4 million nonces: ~2,100 requests/s across the broker, sustained.
 */
export const NONCE_ENTRY_MAX_BYTES = 192;

/**
 * Request nonces seen inside the clock-skew window; `ttlMs` covers the window on both sides of broker time.
 * Also limited by entries: nats-server 2.9 checks a discard-new byte limit against less than an entry stores,
 * so a bucket at its byte limit took each new nonce and dropped the oldest, forgetting a nonce inside the
 * window. The entry limit is checked exactly and reached first, so a full bucket refuses instead.
 */
export function nonceBucket(s: StorageSettings, ttlMs: number): BucketSpec {
  const maxBytes = s.limits.noncesMaxBytes;
  return { bucket: NONCE_BUCKET, ttlMs, maxBytes, maxEntries: Math.max(1, Math.floor(maxBytes / NONCE_ENTRY_MAX_BYTES)), replicas: s.replicas };
}

export function presenceBucket(s: StorageSettings): BucketSpec {
  return { bucket: PRESENCE_BUCKET, ttlMs: PRESENCE_TTL_MS, maxBytes: s.limits.presenceMaxBytes, replicas: s.replicas };
}

export function proxiesBucket(s: StorageSettings): BucketSpec {
  return { bucket: PROXIES_BUCKET, maxBytes: s.limits.presenceMaxBytes, replicas: s.replicas };
}

export function leaseBucket(s: StorageSettings, ttlMs: number): BucketSpec {
  return { bucket: LEASE_BUCKET, ttlMs, maxBytes: FIXED_BUCKET_BYTES, replicas: s.replicas };
}

/** The JetStream stream behind a bucket (what `nats stream ls` and the storage gauge show). */
export function bucketStream(bucket: string): string {
  return `KV_${bucket}`;
}

/** nats.js' options for creating the bucket as specified. */
export function kvOptions(spec: BucketSpec): Partial<KvOptions> {
  return { history: 1, replicas: spec.replicas, max_bytes: spec.maxBytes, ...(spec.ttlMs === undefined ? {} : { ttl: spec.ttlMs }) };
}

/**
 * Binds to the bucket, creating it as specified when it is missing. It never changes an existing bucket's
 * configuration: the brokers reconcile that once, at start-up (ensureStorage).
 */
export function openBucket(nc: NatsConnection, spec: BucketSpec): Promise<KV> {
  return new Kvm(nc).create(spec.bucket, kvOptions(spec));
}

/** The streams of every bucket Beamline uses, e.g. for a check that all of them have limits. */
export function allBucketStreams(): string[] {
  return [NONCE_BUCKET, PRESENCE_BUCKET, PROXIES_BUCKET, LEASE_BUCKET].map(bucketStream);
}
