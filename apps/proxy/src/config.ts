/** Proxy configuration (Samply.Beam's names), parsed once at boot; a bad variable stops start-up naming it. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { privateKeyFromPem } from '@beamline/crypto';
import { appIdOf, brokerIdOfProxy, DEFAULT_MAX_RECIPIENTS, DEFAULT_MAX_TTL_MS, isValidBeamId, parseDuration } from '@beamline/domain';
import { envPositiveInt, parseBindAddr } from '@beamline/http';

export interface ProxyConfig {
  brokerUrl: string;
  proxyId: string;
  brokerId: string;
  privateKey: KeyObject;
  rootCertPem: string;
  bind: { host: string; port: number };
  /** AppId → SHA-256 of its API key (compared in constant time, never logged). */
  apiKeys: Map<string, Buffer>;
  maxTtlMs: number;
  /** Long-polls and event streams one app may have open at once (`MAX_WAITING_PER_APP`). */
  maxWaitingPerApp: number;
  /** The most recipients a task or result may name (`MAX_RECIPIENTS`); checked before any sealing. */
  maxRecipients: number;
  bodyLimitBytes: number;
  /** Extra time given to the broker beyond a long-poll's own wait before answering 504. */
  brokerTimeoutMs: number;
  /**
   * How long a request that failed on the way (unreachable, 502/503/504) is retried before the app sees the error
   * (`BROKER_RETRY_BUDGET`). It must outlast a JetStream leader election: a follower waits 4–9 s for a lost
   * leader before it campaigns, and a split vote starts another round.
   */
  brokerRetryBudgetMs: number;
  /** Interval of `: keep-alive` comments on SSE streams (at most 15 s per docs/api.md). */
  sseKeepAliveMs: number;
  /** How requests to the broker are authenticated: a session MAC (default) or a signature on each. */
  brokerAuth: 'session' | 'signature';
  /** How often the certificate directory is re-read (new, renewed and revoked certificates). */
  certRefreshMs: number;
  /** After SIGTERM, waits end at once; connections still open after this long are closed (`SHUTDOWN_GRACE`). */
  shutdownGraceMs: number;
}

let cached: ProxyConfig | undefined;

export function proxyConfig(): ProxyConfig {
  return (cached ??= loadProxyConfig(process.env));
}

export function loadProxyConfig(env: NodeJS.ProcessEnv): ProxyConfig {
  const proxyId = required(env, 'PROXY_ID');
  if (!isValidBeamId(proxyId) || !proxyId.includes('.')) throw new Error(`PROXY_ID: expected <label>.<BrokerId>, got ${JSON.stringify(proxyId)}`);
  const brokerUrl = required(env, 'BROKER_URL').replace(/\/+$/, '');
  try {
    new URL(brokerUrl);
  } catch {
    throw new Error(`BROKER_URL: not a URL: ${JSON.stringify(brokerUrl)}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = privateKeyFromPem(readFileSync(required(env, 'PRIVKEY_FILE'), 'utf8'));
  } catch (err) {
    throw new Error(`PRIVKEY_FILE: ${(err as Error).message}`);
  }
  return {
    brokerUrl,
    proxyId,
    brokerId: brokerIdOfProxy(proxyId),
    privateKey,
    rootCertPem: readFileSync(required(env, 'ROOTCERT_FILE'), 'utf8'),
    bind: parseBindAddr(env.BIND_ADDR ?? '0.0.0.0:8081'),
    apiKeys: apiKeysFrom(env, proxyId),
    maxTtlMs: DEFAULT_MAX_TTL_MS,
    maxRecipients: envPositiveInt(env, 'MAX_RECIPIENTS', DEFAULT_MAX_RECIPIENTS),
    maxWaitingPerApp: envPositiveInt(env, 'MAX_WAITING_PER_APP', 100),
    bodyLimitBytes: 16 * 1024 * 1024,
    brokerTimeoutMs: durationOr(env.BROKER_TIMEOUT, 'BROKER_TIMEOUT', 30_000),
    brokerRetryBudgetMs: durationOr(env.BROKER_RETRY_BUDGET, 'BROKER_RETRY_BUDGET', 30_000),
    sseKeepAliveMs: durationOr(env.SSE_KEEPALIVE, 'SSE_KEEPALIVE', 15_000),
    brokerAuth: brokerAuth(env.BROKER_AUTH),
    certRefreshMs: durationOr(env.CERT_REFRESH, 'CERT_REFRESH', 60_000),
    shutdownGraceMs: durationOr(env.SHUTDOWN_GRACE, 'SHUTDOWN_GRACE', 10_000),
  };
}

function brokerAuth(raw: string | undefined): 'session' | 'signature' {
  if (raw === undefined || raw === '' || raw === 'session') return 'session';
  if (raw === 'signature') return 'signature';
  throw new Error(`BROKER_AUTH: expected "session" or "signature", got ${JSON.stringify(raw)}`);
}

function durationOr(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  try {
    return parseDuration(raw, name);
  } catch (err) {
    throw new Error((err as Error).message);
  }
}

/** `APP_<label>_KEY=<key>` defines app `<label>.<PROXY_ID>`. */
function apiKeysFrom(env: NodeJS.ProcessEnv, proxyId: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const [name, value] of Object.entries(env)) {
    const m = /^APP_(.+)_KEY$/.exec(name);
    if (!m || !value) continue;
    keys.set(appIdOf(m[1], proxyId), createHash('sha256').update(value).digest());
  }
  return keys;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name}: required`);
  return v;
}
