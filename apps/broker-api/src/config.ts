/** broker-api configuration: one schema, parsed once at boot (main.ts); every bad variable is named at once. */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseEnvChecked, setting, type ComponentDoc } from '@beamline/config';
import { DEFAULT_MAX_RECIPIENTS, DEFAULT_MAX_WAIT_MS, isValidBeamId, parseByteSize } from '@beamline/domain';
import { httpUrl, logEnv, parseBindAddr, type LOG_LEVELS, type LogFormat } from '@beamline/http';
import {
  checkNatsEnvPairs,
  natsEnv,
  natsSettingsFrom,
  storageEnv,
  storageSettingsFrom,
  type NatsConnectionSettings,
  type StorageSettings,
} from '@beamline/nats';
import { parseSessionSecret, readSessionSecretFile, requireOneSessionSecret } from './auth/session-secret-setting';
import { DEFAULT_RELAY_LINK_OPTIONS, type RelayLinkOptions } from './sockets/relay-link';

export interface BrokerConfig {
  /** Where NATS is, how to log in and TLS (`NATS_*`). */
  nats: NatsConnectionSettings;
  logLevel: (typeof LOG_LEVELS)[number];
  /** `LOG_FORMAT`; undefined: pretty on a terminal, JSON lines otherwise. */
  logFormat: LogFormat | undefined;
  brokerId: string;
  bind: { host: string; port: number };
  rootCertPem: string;
  monitoringApiKey: string | undefined;
  /** `/metrics` without credentials (`METRICS_AUTH=none`). */
  metricsOpen: boolean;
  maxTtlMs: number;
  /** The most recipients a task or result may name (`MAX_RECIPIENTS`). */
  maxRecipients: number;
  maxWaitMs: number;
  /** Requests whose timestamp is further than this from broker time are rejected. */
  maxClockSkewMs: number;
  bodyLimitBytes: number;
  /** The largest file sent store-and-forward (`MAX_FILE_SIZE`). */
  maxFileBytes: number;
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
  /**
   * The secret session keys are derived from (`SESSION_SECRET` or `SESSION_SECRET_FILE`): required, and the
   * same for every replica. It is never stored in NATS, so reading NATS does not let anyone mint sessions.
   */
  sessionSecret: Buffer;
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

/** The Nest token of the one BrokerConfig, loaded and validated in main.ts before the application starts. */
export const BROKER_CONFIG = Symbol('BrokerConfig');

export const brokerEnvSchema = z.object({
  BROKER_URL: setting.text('http://broker:8080', 'where proxies reach the broker; its host is the BrokerId unless `BROKER_ID` is set', httpUrl),
  BROKER_ID: setting.optionalText("the BrokerId (the last label of every BeamId), when it is not `BROKER_URL`'s host", brokerIdText, "`BROKER_URL`'s host"),
  BIND_ADDR: setting.text(parseBindAddr('0.0.0.0:8080'), 'address and port to listen on', (raw) => parseBindAddr(raw, 'value'), '0.0.0.0:8080'),
  ROOTCERT_FILE: setting.text<string>(undefined, 'the pinned root CA certificate (PEM): only what it signed is trusted', (raw) => readFileSync(raw, 'utf8')),
  ...natsEnv,
  ...logEnv,
  MONITORING_API_KEY: setting.optionalText('password for `/v1/health/proxies` and `/metrics` (Basic auth, empty user); unset: 501'),
  METRICS_AUTH: setting.oneOf(
    ['monitoring-key', 'none'] as const,
    'monitoring-key',
    '`/metrics` asks for the monitoring key, or `none`: open to anyone who reaches this port (a private network; the demo)',
  ),
  MAX_RECIPIENTS: setting.int(DEFAULT_MAX_RECIPIENTS, 'the most recipients a task or result may name; more is 400 `too_many_recipients`'),
  MAX_WAIT: setting.duration(DEFAULT_MAX_WAIT_MS, 'the longest `wait_time` a read may ask for'),
  MAX_CLOCK_SKEW: setting.duration(5 * 60_000, "how far a proxy's clock may be off; older or newer requests are refused"),
  MAX_UPLOADS_PER_PROXY: setting.int(8, 'request bodies one proxy may have in flight at once; beyond it 429 `too_many_uploads`'),
  MAX_WAITING_PER_PROXY: setting.int(10_000, 'long-polls and event streams one proxy may have open at one replica; beyond it 429 `too_many_waiting`'),
  WAKE_RECHECK: setting.duration(
    5_000,
    'a waiting read that no notification woke re-reads this often: the safety net for a notification lost in a NATS reconnect',
  ),
  SSE_KEEPALIVE: setting.duration(15_000, 'interval of `: keep-alive` comments on event streams'),
  SESSION_TTL: setting.duration(3_600_000, 'lifetime of a proxy session (a MAC per request instead of a signature)'),
  SESSION_SECRET: setting.optionalText(
    'secret session keys are derived from: hex or base64, at least 32 random bytes, the same for every replica (e.g. `openssl rand -hex 32`)',
    parseSessionSecret,
    'required, or `SESSION_SECRET_FILE`',
  ),
  SESSION_SECRET_FILE: setting.optionalText(
    'a file holding `SESSION_SECRET` (hex or base64 text); instead of `SESSION_SECRET`, so the secret stays out of the environment',
    readSessionSecretFile,
  ),
  SOCKET_PEER_TIMEOUT: setting.duration(DEFAULT_RELAY_LINK_OPTIONS.peerTimeoutMs, 'a direct-socket relay whose peer replica is silent this long resets', {
    minMs: 1_000,
  }),
  SHUTDOWN_GRACE: setting.duration(10_000, 'after SIGTERM, waits end at once; connections still open this long are closed'),
  MAX_FILE_SIZE: setting.byteSize(
    2 ** 30,
    'the largest file an app may send store-and-forward (`POST /v1/files`); beyond it 413 `file_too_large`; the files live in the blob store (`BLOBS_MAX_BYTES`)',
    {
      minBytes: 2 ** 20,
    },
  ),
  QUOTA_WRITE_RATE: setting.int(
    200,
    'writes (tasks, results, socket requests) per second one proxy may make at one replica, bursts of twice that; beyond it 429',
  ),
  QUOTA_LIVE_TASKS: setting.int(100_000, "live tasks one proxy's apps may hold; beyond it 429 `quota_exceeded`"),
  QUOTA_LIVE_BYTES: setting.optionalText(
    "bytes of live tasks and results one proxy's apps may hold; beyond it 507 `quota_exceeded`",
    (raw) => parseByteSize(raw, 'value'),
    'half of `EVENTS_MAX_BYTES`',
  ),
  ...storageEnv,
});

/** What `beamline broker-api --help` and `--print-config` show. */
export const BROKER_API_DOC: ComponentDoc = {
  component: 'broker-api',
  summary:
    "The broker's HTTP frontend, any number of replicas behind a plain load balancer: it authenticates proxies, verifies and authorises messages, appends events to NATS JetStream and serves reads, long-polls, event streams and direct sockets.",
  schema: brokerEnvSchema,
};

export function loadBrokerConfig(env: Readonly<Record<string, string | undefined>>): BrokerConfig {
  const v = parseBrokerEnv(env);
  const storage = storageSettingsFrom(v);
  const brokerId = v.BROKER_ID ?? new URL(v.BROKER_URL).hostname;
  if (!isValidBeamId(brokerId))
    throw new ConfigError('broker-api', [`BROKER_URL: its host ${JSON.stringify(brokerId)} is not a valid BrokerId; set BROKER_ID`]);
  return {
    nats: natsSettingsFrom(v),
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    brokerId,
    bind: v.BIND_ADDR,
    rootCertPem: v.ROOTCERT_FILE,
    monitoringApiKey: v.MONITORING_API_KEY,
    metricsOpen: v.METRICS_AUTH === 'none',
    maxTtlMs: storage.maxTtlMs,
    maxRecipients: v.MAX_RECIPIENTS,
    maxWaitMs: v.MAX_WAIT,
    maxClockSkewMs: v.MAX_CLOCK_SKEW,
    // Below the event log's 32 MiB message limit, leaving room for the event envelope around the message.
    bodyLimitBytes: 30 * 1024 * 1024,
    maxUploadsPerProxy: v.MAX_UPLOADS_PER_PROXY,
    maxFileBytes: v.MAX_FILE_SIZE,
    maxWaitingPerProxy: v.MAX_WAITING_PER_PROXY,
    wakeRecheckMs: v.WAKE_RECHECK,
    sseKeepAliveMs: v.SSE_KEEPALIVE,
    sessionTtlMs: v.SESSION_TTL,
    sessionSecret: (v.SESSION_SECRET ?? v.SESSION_SECRET_FILE) as Buffer,
    storage,
    socketRelay: socketRelay(v.SOCKET_PEER_TIMEOUT),
    shutdownGraceMs: v.SHUTDOWN_GRACE,
    quotas: {
      writeRatePerSecond: v.QUOTA_WRITE_RATE,
      liveTasks: v.QUOTA_LIVE_TASKS,
      // No one proxy can fill the live log alone: the others keep at least half of it.
      liveBytes: v.QUOTA_LIVE_BYTES ?? Math.floor(storage.limits.eventsMaxBytes / 2),
    },
  };
}

function brokerIdText(raw: string): string {
  if (!isValidBeamId(raw)) throw new Error(`not a valid BrokerId: ${JSON.stringify(raw)}`);
  return raw;
}

/**
 * The schema's values, and the checks that involve two variables: the NATS login and client certificate pairs,
 * and exactly one of `SESSION_SECRET` and `SESSION_SECRET_FILE`. Every problem is reported at once.
 */
function parseBrokerEnv(env: Readonly<Record<string, string | undefined>>): z.output<typeof brokerEnvSchema> {
  return parseEnvChecked('broker-api', brokerEnvSchema, env, (problems) => {
    checkNatsEnvPairs(env, problems);
    problems.check('SESSION_SECRET', () => requireOneSessionSecret(env));
  });
}

function socketRelay(peerTimeoutMs: number): RelayLinkOptions {
  const heartbeatMs = Math.min(DEFAULT_RELAY_LINK_OPTIONS.heartbeatMs, Math.floor(peerTimeoutMs / 4));
  return { ...DEFAULT_RELAY_LINK_OPTIONS, peerTimeoutMs, heartbeatMs, lingerMs: Math.min(DEFAULT_RELAY_LINK_OPTIONS.lingerMs, peerTimeoutMs) };
}
