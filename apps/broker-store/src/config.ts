/** broker-store configuration: one schema, parsed once at boot (main.ts); every bad variable is named at once. */
import { z } from 'zod';
import { parseEnvChecked, setting, type ComponentDoc } from '@beamline/config';
import { logEnv, parseBindAddr, type LOG_LEVELS, type LogFormat } from '@beamline/http';
import {
  checkNatsEnvPairs,
  natsEnv,
  natsSettingsFrom,
  storageEnv,
  storageSettingsFrom,
  type NatsConnectionSettings,
  type StorageSettings,
} from '@beamline/nats';

export const storeEnvSchema = z.object({
  ...natsEnv,
  ...logEnv,
  METRICS_ADDR: setting.text(
    parseBindAddr('127.0.0.1:9100'),
    "address and port of broker-store's own HTTP listener (`/metrics`, `/v1/health`); loopback by default",
    (raw) => parseBindAddr(raw, 'value'),
    '127.0.0.1:9100',
  ),
  EXPIRY_SWEEP_MS: setting.int(250, 'how often (ms) the expiry leader looks for tasks past their deadline'),
  BLOB_ORPHAN_GRACE: setting.duration(
    6 * 3_600_000,
    'how long a blob may stay in the store without a task or file that names it (a failed upload) before the expiry leader deletes it; longer than any upload of a whole file takes',
    { minMs: 1_000, default: '6h' },
  ),
  CATCH_UP_TIMEOUT_MS: setting.int(2_000, "how long (ms) a query waits for this replica to reach the writer's sequence before it answers `behind`"),
  ...storageEnv,
});

/** What `beamline broker-store --help` and `--print-config` show. */
export const BROKER_STORE_DOC: ComponentDoc = {
  component: 'broker-store',
  summary:
    'The projector, any number of replicas: it follows the event log in NATS JetStream into in-memory views, answers the queries of broker-api, and (one leader) expires tasks and copies the audit trail.',
  schema: storeEnvSchema,
};

/** The Nest token of the one StoreConfig, built in main.ts before the application starts. */
export const STORE_CONFIG = Symbol('StoreConfig');

export interface StoreConfig {
  /** Where NATS is, how to log in and TLS (`NATS_*`). */
  nats: NatsConnectionSettings;
  logLevel: (typeof LOG_LEVELS)[number];
  /** `LOG_FORMAT`; undefined: pretty on a terminal, JSON lines otherwise. */
  logFormat: LogFormat | undefined;
  /** Where `/metrics` and `/v1/health` listen (`METRICS_ADDR`). */
  bind: { host: string; port: number };
  /** How often the expiry sweeper looks for tasks past their deadline. */
  sweepIntervalMs: number;
  /** How old an unnamed blob must be before the expiry leader deletes it (`BLOB_ORPHAN_GRACE`). */
  blobOrphanGraceMs: number;
  /** How long a query waits for this replica to catch up with the writer's sequence. */
  catchUpTimeoutMs: number;
  /** Replicas, retention and byte limits of every stream and bucket (the same reader as broker-api's). */
  storage: StorageSettings;
}

export function loadStoreConfig(env: Readonly<Record<string, string | undefined>> = process.env): StoreConfig {
  const v = parseEnvChecked('broker-store', storeEnvSchema, env, (problems) => checkNatsEnvPairs(env, problems));
  return {
    nats: natsSettingsFrom(v),
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    bind: v.METRICS_ADDR,
    sweepIntervalMs: v.EXPIRY_SWEEP_MS,
    blobOrphanGraceMs: v.BLOB_ORPHAN_GRACE,
    catchUpTimeoutMs: v.CATCH_UP_TIMEOUT_MS,
    storage: storageSettingsFrom(v),
  };
}
