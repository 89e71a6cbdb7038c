/**
 * The one reader of the settings that shape Beamline's JetStream storage. broker-api and broker-store both
 * reconcile the streams to them at start-up, so both read them here and cannot disagree.
 */
import { z } from 'zod';
import { DEFAULT_MAX_TTL_MS } from '@beamline/domain';
import { parseEnv, setting } from '@beamline/config';

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
  /** Object store beam-blobs: the sealed bodies too big to travel inside their messages. Uploads are refused (507) when full. */
  blobsMaxBytes: number;
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
  blobsMaxBytes: 'BLOBS_MAX_BYTES',
};

/**
 * Defaults for one modest node: 10.6 GiB in all with the fixed buckets, inside the `max_file_store` of the dev
 * server (libs/devnet) and of infra/nats. A production broker sizes EVENTS and AUDIT from its load (README).
 */
export const DEFAULT_STORAGE_LIMITS: Readonly<StorageLimits> = {
  eventsMaxBytes: 4 * GiB,
  auditMaxBytes: 4 * GiB,
  pkiMaxBytes: 256 * MiB,
  noncesMaxBytes: 256 * MiB,
  presenceMaxBytes: 64 * MiB,
  blobsMaxBytes: 2 * GiB,
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
  blobsMaxBytes: 160 * MiB,
};

export const DEFAULT_AUDIT_RETENTION_MS = 30 * 24 * 3_600_000;

export const DEFAULT_STORAGE_SETTINGS: Readonly<StorageSettings> = {
  replicas: 1,
  maxTtlMs: DEFAULT_MAX_TTL_MS,
  auditRetentionMs: DEFAULT_AUDIT_RETENTION_MS,
  limits: DEFAULT_STORAGE_LIMITS,
};

/**
 * The storage variables as a schema fragment: broker-api's and broker-store's configs both spread it into
 * theirs (the README table lists them once, for both).
 */
export const storageEnv = {
  STREAM_REPLICAS: setting.int(1, 'JetStream replicas of every stream and bucket (1 on one node, 3 on a production cluster)', { min: 1, max: 5 }),
  MAX_TTL: setting.duration(DEFAULT_MAX_TTL_MS, 'the longest task TTL the broker accepts; BEAM_EVENTS keeps messages a day longer'),
  AUDIT_RETENTION: setting.duration(DEFAULT_AUDIT_RETENTION_MS, 'how long BEAM_AUDIT keeps its copy of every event'),
  EVENTS_MAX_BYTES: limit('eventsMaxBytes', 'byte limit of BEAM_EVENTS, the live log; writes are refused (507) from 95 %'),
  AUDIT_MAX_BYTES: limit('auditMaxBytes', 'byte limit of BEAM_AUDIT; at it the oldest copies go first'),
  PKI_MAX_BYTES: limit('pkiMaxBytes', 'byte limit of BEAM_PKI, the certificate directory'),
  NONCES_MAX_BYTES: limit('noncesMaxBytes', 'byte limit of KV beam-nonces (requests refused with 507 when full; see Storage limits)'),
  PRESENCE_MAX_BYTES: limit('presenceMaxBytes', 'byte limit of KV beam-presence and KV beam-proxies, each'),
  BLOBS_MAX_BYTES: limit('blobsMaxBytes', 'byte limit of the object store beam-blobs, the sealed bodies over 1 MiB (uploads refused with 507 when full)'),
};

function limit(key: keyof StorageLimits, meaning: string): ReturnType<typeof setting.byteSize> {
  return setting.byteSize(DEFAULT_STORAGE_LIMITS[key], meaning, { minBytes: MIN_LIMITS[key] });
}

/** The parsed storage variables, as the streams and buckets are configured from them. */
export function storageSettingsFrom(v: z.output<z.ZodObject<typeof storageEnv>>): StorageSettings {
  return {
    replicas: v.STREAM_REPLICAS,
    maxTtlMs: v.MAX_TTL,
    auditRetentionMs: v.AUDIT_RETENTION,
    limits: {
      eventsMaxBytes: v.EVENTS_MAX_BYTES,
      auditMaxBytes: v.AUDIT_MAX_BYTES,
      pkiMaxBytes: v.PKI_MAX_BYTES,
      noncesMaxBytes: v.NONCES_MAX_BYTES,
      presenceMaxBytes: v.PRESENCE_MAX_BYTES,
      blobsMaxBytes: v.BLOBS_MAX_BYTES,
    },
  };
}

/** Reads STREAM_REPLICAS, MAX_TTL, AUDIT_RETENTION and the `*_MAX_BYTES` limits; ConfigError names every bad one. */
export function readStorageSettings(env: Readonly<Record<string, string | undefined>>): StorageSettings {
  return storageSettingsFrom(parseEnv('storage', z.object(storageEnv), env));
}
