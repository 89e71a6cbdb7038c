/**
 * The one reader of the settings that shape Beamline's JetStream storage. broker-api and broker-store both
 * reconcile the streams to them at start-up, so both read them here and cannot disagree.
 */
import { DEFAULT_MAX_TTL_MS, formatBytes, parseByteSize, parseDuration } from '@beamline/domain';

/** Byte limits of the stores an operator sizes (the small fixed buckets are in buckets.ts). */
export interface StorageLimits {
  /** BEAM_EVENTS, the live log: live tasks × their size. Writes are refused (507) from 95% of it. */
  eventsMaxBytes: number;
  /** BEAM_AUDIT: copies of every event for AUDIT_RETENTION at most; at this limit the oldest copies go first. */
  auditMaxBytes: number;
  /** BEAM_PKI, the certificate directory (kept forever). */
  pkiMaxBytes: number;
  /** KV beam-nonces: request rate × nonce window. */
  noncesMaxBytes: number;
  /** KV beam-presence and KV beam-proxies, each. */
  presenceMaxBytes: number;
}

export interface StorageSettings {
  /** JetStream replicas of every stream and bucket: 1 on a single node, 3 on a production cluster. */
  replicas: number;
  /** The broker's maximum task TTL; BEAM_EVENTS keeps messages a margin longer. */
  maxTtlMs: number;
  /** How long BEAM_AUDIT keeps every event, also of tasks long expired and purged from BEAM_EVENTS. */
  auditRetentionMs: number;
  limits: StorageLimits;
}

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** The environment variable of each limit: what error messages and the README name. */
export const STORAGE_LIMIT_SETTINGS: Readonly<Record<keyof StorageLimits, string>> = {
  eventsMaxBytes: 'EVENTS_MAX_BYTES',
  auditMaxBytes: 'AUDIT_MAX_BYTES',
  pkiMaxBytes: 'PKI_MAX_BYTES',
  noncesMaxBytes: 'NONCES_MAX_BYTES',
  presenceMaxBytes: 'PRESENCE_MAX_BYTES',
};

/**
 * Defaults for one modest node: 8.6 GiB in all with the fixed buckets, inside the `max_file_store` of the dev
 * server (libs/devnet) and of infra/nats. A production broker sizes EVENTS and AUDIT from its load (README).
 */
export const DEFAULT_STORAGE_LIMITS: Readonly<StorageLimits> = {
  eventsMaxBytes: 4 * GiB,
  auditMaxBytes: 4 * GiB,
  pkiMaxBytes: 256 * MiB,
  noncesMaxBytes: 256 * MiB,
  presenceMaxBytes: 64 * MiB,
};

/**
 * Smallest accepted limits. BEAM_EVENTS and BEAM_AUDIT must hold two of the largest events (32 MiB): a copy
 * larger than BEAM_AUDIT would be dropped at once, and an event log smaller than one event refuses it forever.
 */
const MIN_LIMITS: Readonly<StorageLimits> = {
  eventsMaxBytes: 64 * MiB,
  auditMaxBytes: 64 * MiB,
  pkiMaxBytes: MiB,
  noncesMaxBytes: MiB,
  presenceMaxBytes: MiB,
};

export const DEFAULT_AUDIT_RETENTION_MS = 30 * 24 * 3_600_000;

export const DEFAULT_STORAGE_SETTINGS: Readonly<StorageSettings> = {
  replicas: 1,
  maxTtlMs: DEFAULT_MAX_TTL_MS,
  auditRetentionMs: DEFAULT_AUDIT_RETENTION_MS,
  limits: DEFAULT_STORAGE_LIMITS,
};

/** Reads STREAM_REPLICAS, MAX_TTL, AUDIT_RETENTION and the `*_MAX_BYTES` limits; a bad value throws naming its variable. */
export function readStorageSettings(env: Readonly<Record<string, string | undefined>>): StorageSettings {
  const limits = {} as StorageLimits;
  for (const key of Object.keys(STORAGE_LIMIT_SETTINGS) as (keyof StorageLimits)[]) {
    limits[key] = byteSize(env, STORAGE_LIMIT_SETTINGS[key], DEFAULT_STORAGE_LIMITS[key], MIN_LIMITS[key]);
  }
  return {
    replicas: replicas(env),
    maxTtlMs: duration(env, 'MAX_TTL', DEFAULT_MAX_TTL_MS),
    auditRetentionMs: duration(env, 'AUDIT_RETENTION', DEFAULT_AUDIT_RETENTION_MS),
    limits,
  };
}

function byteSize(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const bytes = plain(() => parseByteSize(raw, name));
  if (bytes < min) throw new Error(`${name}: at least ${formatBytes(min)}, got ${JSON.stringify(raw)}`);
  return bytes;
}

function duration(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  return plain(() => parseDuration(raw, name));
}

function replicas(env: Readonly<Record<string, string | undefined>>): number {
  const raw = env.STREAM_REPLICAS ?? '1';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5) throw new Error(`STREAM_REPLICAS: expected 1 to 5, got ${JSON.stringify(raw)}`);
  return n;
}

/** A start-up error is a plain Error with the message naming the variable, not a domain error (no HTTP here). */
function plain<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new Error((err as Error).message);
  }
}
