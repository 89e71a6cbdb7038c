import { envPositiveInt } from '@beamline/http';
import { readStorageSettings, type StorageSettings } from '@beamline/nats';

/** broker-store configuration, read once at boot; a bad variable stops start-up naming it. */
export interface StoreConfig {
  natsUrl: string;
  /** How often the expiry sweeper looks for tasks past their deadline. */
  sweepIntervalMs: number;
  /** How long a query waits for this replica to catch up with the writer's sequence. */
  catchUpTimeoutMs: number;
  /** Replicas, retention and byte limits of every stream and bucket (the same reader as broker-api's). */
  storage: StorageSettings;
}

export function loadStoreConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  return {
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    sweepIntervalMs: envPositiveInt(env, 'EXPIRY_SWEEP_MS', 250),
    catchUpTimeoutMs: envPositiveInt(env, 'CATCH_UP_TIMEOUT_MS', 2_000),
    storage: readStorageSettings(env),
  };
}
