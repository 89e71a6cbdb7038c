/** broker-api configuration, parsed once at boot; a bad variable stops start-up naming it. */
import { readFileSync } from 'node:fs';
import { DEFAULT_MAX_RECIPIENTS, DEFAULT_MAX_WAIT_MS, isValidBeamId, parseByteSize, parseDuration } from '@beamline/domain';
import { envPositiveInt, parseBindAddr } from '@beamline/http';
import { readStorageSettings, type StorageSettings } from '@beamline/nats';
import { DEFAULT_RELAY_LINK_OPTIONS, type RelayLinkOptions } from './sockets/relay-link';

export interface BrokerConfig {
  natsUrl: string;
  brokerId: string;
  bind: { host: string; port: number };
  rootCertPem: string;
  monitoringApiKey: string | undefined;
  maxTtlMs: number;
  /** The most recipients a task or result may name (`MAX_RECIPIENTS`). */
  maxRecipients: number;
  maxWaitMs: number;
  /** Requests whose timestamp is further than this from broker time are rejected. */
  maxClockSkewMs: number;
  bodyLimitBytes: number;
  /** Long-polls and event streams one proxy may have open at once at this replica (`MAX_WAITING_PER_PROXY`). */
  maxWaitingPerProxy: number;
  /** Request bodies one proxy may have in flight at once (`MAX_UPLOADS_PER_PROXY`). */
  maxUploadsPerProxy: number;
  /**
   * How long a waiting long-poll or event stream goes without re-reading when no notification wakes it
   * (`WAKE_RECHECK`): the safety net for a notification lost while this replica reconnected to NATS.
   */
  wakeRecheckMs: number;
  /** Interval of `: keep-alive` comments on SSE streams (at most 15 s per docs/api.md). */
  sseKeepAliveMs: number;
  /** Lifetime of proxy sessions (request MACs instead of signatures). */
  sessionTtlMs: number;
  /** Operator-set secret for session keys; when unset the replicas share one created in NATS KV. */
  sessionSecret: Buffer | undefined;
  /** Replicas, retention and byte limits of every stream and bucket (the same reader as broker-store's). */
  storage: StorageSettings;
  /** After SIGTERM, waits end at once; connections still open after this long are closed (`SHUTDOWN_GRACE`). */
  shutdownGraceMs: number;
  /** Direct-socket relay tuning; `SOCKET_PEER_TIMEOUT` resets a stream whose peer end went silent. */
  socketRelay: RelayLinkOptions;
  /** What one proxy may hold and how fast it may write (README: Quotas). */
  quotas: QuotaSettings;
}

export interface QuotaSettings {
  /** Writes (tasks, results, socket requests) per second per proxy at this replica (`QUOTA_WRITE_RATE`); bursts of twice that. */
  writeRatePerSecond: number;
  /** Live tasks one proxy's apps may have created (`QUOTA_LIVE_TASKS`). */
  liveTasks: number;
  /** Bytes one proxy's live tasks and results may hold in the live log (`QUOTA_LIVE_BYTES`, default half of EVENTS_MAX_BYTES). */
  liveBytes: number;
}

let cached: BrokerConfig | undefined;

export function brokerConfig(): BrokerConfig {
  return (cached ??= loadBrokerConfig(process.env));
}

export function loadBrokerConfig(env: NodeJS.ProcessEnv): BrokerConfig {
  const brokerUrl = env.BROKER_URL ?? 'http://broker:8080';
  let brokerId = env.BROKER_ID;
  if (!brokerId) {
    try {
      brokerId = new URL(brokerUrl).hostname;
    } catch {
      throw new Error(`BROKER_URL: not a URL: ${JSON.stringify(brokerUrl)}`);
    }
  }
  if (!isValidBeamId(brokerId)) throw new Error(`BROKER_ID: not a valid BrokerId: ${JSON.stringify(brokerId)}`);
  const rootCertFile = env.ROOTCERT_FILE;
  if (!rootCertFile) throw new Error('ROOTCERT_FILE: required (the pinned root CA certificate, PEM)');
  const storage = readStorageSettings(env);
  return {
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    brokerId,
    bind: parseBindAddr(env.BIND_ADDR ?? '0.0.0.0:8080'),
    rootCertPem: readFileSync(rootCertFile, 'utf8'),
    monitoringApiKey: env.MONITORING_API_KEY || undefined,
    maxTtlMs: storage.maxTtlMs,
    maxRecipients: envPositiveInt(env, 'MAX_RECIPIENTS', DEFAULT_MAX_RECIPIENTS),
    maxWaitMs: duration(env, 'MAX_WAIT', DEFAULT_MAX_WAIT_MS),
    maxClockSkewMs: duration(env, 'MAX_CLOCK_SKEW', 5 * 60_000),
    // Below the event log's 32 MiB message limit, leaving room for the event envelope around the message.
    bodyLimitBytes: 30 * 1024 * 1024,
    maxUploadsPerProxy: envPositiveInt(env, 'MAX_UPLOADS_PER_PROXY', 8),
    maxWaitingPerProxy: envPositiveInt(env, 'MAX_WAITING_PER_PROXY', 10_000),
    wakeRecheckMs: duration(env, 'WAKE_RECHECK', 5_000),
    sseKeepAliveMs: duration(env, 'SSE_KEEPALIVE', 15_000),
    sessionTtlMs: duration(env, 'SESSION_TTL', 3_600_000),
    sessionSecret: secret(env, 'SESSION_SECRET'),
    storage,
    socketRelay: socketRelay(env),
    shutdownGraceMs: duration(env, 'SHUTDOWN_GRACE', 10_000),
    quotas: {
      writeRatePerSecond: envPositiveInt(env, 'QUOTA_WRITE_RATE', 200),
      liveTasks: envPositiveInt(env, 'QUOTA_LIVE_TASKS', 100_000),
      // No one proxy can fill the live log alone: the others keep at least half of it.
      liveBytes: byteSize(env, 'QUOTA_LIVE_BYTES', Math.floor(storage.limits.eventsMaxBytes / 2)),
    },
  };
}

function byteSize(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return setting(env, name, fallback, parseByteSize);
}

function duration(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return setting(env, name, fallback, parseDuration);
}

/** `env[name]` parsed, or `fallback` when unset; a bad value stops start-up with a plain error naming it. */
function setting(env: NodeJS.ProcessEnv, name: string, fallback: number, parse: (raw: string, name: string) => number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return parse(raw, name);
  } catch (err) {
    throw new Error((err as Error).message);
  }
}

function socketRelay(env: NodeJS.ProcessEnv): RelayLinkOptions {
  const peerTimeoutMs = duration(env, 'SOCKET_PEER_TIMEOUT', DEFAULT_RELAY_LINK_OPTIONS.peerTimeoutMs);
  if (peerTimeoutMs < 1_000) throw new Error('SOCKET_PEER_TIMEOUT: at least 1s');
  const heartbeatMs = Math.min(DEFAULT_RELAY_LINK_OPTIONS.heartbeatMs, Math.floor(peerTimeoutMs / 4));
  return { ...DEFAULT_RELAY_LINK_OPTIONS, peerTimeoutMs, heartbeatMs, lingerMs: Math.min(DEFAULT_RELAY_LINK_OPTIONS.lingerMs, peerTimeoutMs) };
}

function secret(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  const bytes = /^[0-9a-fA-F]+$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (bytes.length < 32) throw new Error(`${name}: expected at least 32 bytes, hex or base64`);
  return bytes;
}
