import { parseDuration } from '@beamline/domain';

/** broker-store configuration, read once at boot; a bad variable stops start-up naming it. */
export interface StoreConfig {
  natsUrl: string;
  /** How often the expiry sweeper looks for tasks past their deadline. */
  sweepIntervalMs: number;
  /** How long a query waits for this replica to catch up with the writer's sequence. */
  catchUpTimeoutMs: number;
  /** JetStream replicas of every stream: 1 on a single node, 3 on a production cluster. */
  streamReplicas: number;
  auditRetentionMs: number;
  maxTtlMs: number;
}

export function loadStoreConfig(env: NodeJS.ProcessEnv = process.env): StoreConfig {
  return {
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    sweepIntervalMs: positiveInt(env, 'EXPIRY_SWEEP_MS', 250),
    catchUpTimeoutMs: positiveInt(env, 'CATCH_UP_TIMEOUT_MS', 2_000),
    streamReplicas: positiveInt(env, 'STREAM_REPLICAS', 1),
    auditRetentionMs: durationOr(env, 'AUDIT_RETENTION', 30 * 24 * 3_600_000),
    maxTtlMs: durationOr(env, 'MAX_TTL', 7 * 24 * 3_600_000),
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function durationOr(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return parseDuration(raw, name);
  } catch (err) {
    throw new Error((err as Error).message);
  }
}
