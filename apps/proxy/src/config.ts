/** Proxy configuration (Samply.Beam's names): one schema, parsed once at boot (main.ts); every bad variable is named at once. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { privateKeyFromPem } from '@beamline/crypto';
import { z } from 'zod';
import { parseEnvChecked, setting, type ComponentDoc, type ConfigProblems } from '@beamline/config';
import {
  appIdOf,
  brokerIdOfProxy,
  DEFAULT_MAX_RECIPIENTS,
  DEFAULT_MAX_TTL_MS,
  DEFAULT_MESSAGE_CLOCK_SKEW_MS,
  DEFAULT_SOCKET_TTL_MS,
  INLINE_BODY_MAX_BYTES,
  isValidBeamId,
  MAX_APP_REQUEST_BYTES,
} from '@beamline/domain';
import { httpUrl, logEnv, parseBindAddr, type LOG_LEVELS, type LogFormat } from '@beamline/http';
import { caDirText, noProxyText, proxyUrlText, withProxyVariables, type EgressSettings } from './broker/egress-settings';

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
  /** The largest file an app may send store-and-forward (`MAX_FILE_SIZE`). */
  maxFileBytes: number;
  /** Bodies larger than this (UTF-8 bytes) are sealed into the broker's blob store, not into their message (`INLINE_BODY_MAX`). */
  inlineBodyMaxBytes: number;
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
  /** A full re-read of the signed directory events, after which a skipped event is seen. */
  certResyncMs: number;
  /** After SIGTERM, waits end at once; connections still open after this long are closed (`SHUTDOWN_GRACE`). */
  shutdownGraceMs: number;
  logLevel: (typeof LOG_LEVELS)[number];
  /** `LOG_FORMAT`; undefined: pretty on a terminal, JSON lines otherwise. */
  logFormat: LogFormat | undefined;
  /** How long a socket request waits for its recipient (`SOCKET_TTL`). */
  socketTtlMs: number;
  /** `GET /v1/sockets` without parameters: answer at once, or wait as Samply.Beam does (`SOCKET_LIST_WAIT`). */
  socketListWait: 'now' | 'beam';
  /** How far a sender's clock may be off from this proxy's when it judges a message's signed times (`MESSAGE_CLOCK_SKEW`). */
  messageClockSkewMs: number;
  /** How the proxy leaves the site's network: HTTP proxies and extra trusted CAs (broker/egress.ts). */
  egress: EgressSettings;
}

/** The Nest token of the one ProxyConfig, loaded and validated in main.ts before the application starts. */
export const PROXY_CONFIG = Symbol('ProxyConfig');

export const proxyEnvSchema = z.object({
  BROKER_URL: setting.text<string>(undefined, 'where the broker is, e.g. `https://broker.example.org`', (raw) => httpUrl(raw).replace(/\/+$/, '')),
  PROXY_ID: setting.text<string>(undefined, "this proxy's id, `<label>.<BrokerId>`", proxyIdText),
  PRIVKEY_FILE: setting.text<KeyObject>(undefined, "the site's private key (PEM); nothing else holds it", (raw) =>
    privateKeyFromPem(readFileSync(raw, 'utf8')),
  ),
  ROOTCERT_FILE: setting.text<string>(undefined, 'the pinned root CA certificate (PEM): only what it signed is trusted', (raw) => readFileSync(raw, 'utf8')),
  BIND_ADDR: setting.text(parseBindAddr('0.0.0.0:8081'), 'address and port apps reach the proxy at', (raw) => parseBindAddr(raw, 'value'), '0.0.0.0:8081'),
  ...logEnv,
  MAX_RECIPIENTS: setting.int(
    DEFAULT_MAX_RECIPIENTS,
    'the most recipients a task or result may name; more is 400 `too_many_recipients`, before anything is sealed',
  ),
  MAX_FILE_SIZE: setting.byteSize(
    2 ** 30,
    'the largest file an app may send with `POST /v1/files`; beyond it 413 `file_too_large` (the broker has its own `MAX_FILE_SIZE`)',
    {
      minBytes: 2 ** 20,
    },
  ),
  INLINE_BODY_MAX: setting.byteSize(
    INLINE_BODY_MAX_BYTES,
    "bodies larger than this travel as a sealed blob in the broker's blob store, named by their message; smaller ones inside it (at most 16MiB: a message must fit NATS' max_payload)",
    { maxBytes: 16 * 2 ** 20 },
  ),
  MAX_WAITING_PER_APP: setting.int(100, 'long-polls and event streams one app may have open at once; beyond it 429 `too_many_waiting`'),
  BROKER_TIMEOUT: setting.duration(30_000, 'how long the broker may take beyond a wait before the app gets 504'),
  BROKER_RETRY_BUDGET: setting.duration(
    30_000,
    'how long a request that failed on the way to the broker (unreachable, 502/503/504) is retried before the app sees the error; must outlast a NATS leader election',
  ),
  SSE_KEEPALIVE: setting.duration(15_000, 'interval of `: keep-alive` comments on event streams'),
  BROKER_AUTH: setting.oneOf(
    ['session', 'signature'] as const,
    'session',
    'how requests to the broker are authenticated: a session MAC each, or a signature each',
  ),
  MESSAGE_CLOCK_SKEW: setting.duration(
    DEFAULT_MESSAGE_CLOCK_SKEW_MS,
    "how far a sender proxy's clock may be off from this one's: a task is shown until its signed creation time plus ttl plus this, and a message dated further ahead is refused",
  ),
  CERT_REFRESH: setting.duration(60_000, 'how often new CA-signed directory events are fetched (new, renewed and revoked certificates, intermediates)'),
  CERT_RESYNC: setting.duration(600_000, 'how often the whole directory is read again (bounds how long a broker that skipped an event can hide it)'),
  SHUTDOWN_GRACE: setting.duration(10_000, 'after SIGTERM, waits end at once; connections still open this long are closed'),
  SOCKET_TTL: setting.duration(DEFAULT_SOCKET_TTL_MS, "how long a socket request waits for its recipient (Samply.Beam's apps cannot pass one)"),
  SOCKET_LIST_WAIT: setting.oneOf(
    ['now', 'beam'] as const,
    'now',
    '`GET /v1/sockets` without parameters answers at once (`now`) or waits for a request as Samply.Beam does (`beam`)',
  ),
  HTTPS_PROXY: setting.optionalText(
    'the HTTP proxy an `https://` `BROKER_URL` is reached through (`http://[user:pass@]host:port`; `https_proxy` wins); every connection to the broker, SSE, the control connection and socket upgrades included, is a CONNECT tunnel through it',
    proxyUrlText,
  ),
  HTTP_PROXY: setting.optionalText('the same for an `http://` `BROKER_URL` (`http_proxy` wins)', proxyUrlText),
  ALL_PROXY: setting.optionalText('the HTTP proxy for either scheme when its own variable is unset (`all_proxy` wins); SOCKS is not supported', proxyUrlText),
  NO_PROXY: setting.text<string[]>(
    [],
    'hosts reached directly, comma-separated: `*`, `host`, `.domain` or `domain` (and its subdomains), each optionally `:port` (`no_proxy` wins)',
    noProxyText,
    'unset',
  ),
  TLS_CA_CERTIFICATES_DIR: setting.optionalText(
    "a directory of PEM CA certificates trusted, in addition to Node's bundled CAs, for TLS to the broker (a TLS-inspecting middlebox's CA) and to an `https://` proxy; every file in it must hold one",
    (raw) => ({ dir: raw, cas: caDirText(raw) }),
  ),
});

const APP_KEY = /^APP_(.+)_KEY$/;

/** `APP_<label>_KEY` cannot be declared by name; README's table lists it from here. */
export const PROXY_APP_KEYS_DOC = { 'APP_<label>_KEY': { meaning: 'API key of app `<label>.<PROXY_ID>` (one variable per app)', default: 'no apps' } };

/** What `beamline proxy --help` and `--print-config` show. */
export const PROXY_DOC: ComponentDoc = {
  component: 'proxy',
  summary: "The site's gateway: apps talk Samply.Beam's v1 API to it (ApiKey); it seals, signs and verifies every message and only dials out, to the broker.",
  schema: proxyEnvSchema,
  extra: PROXY_APP_KEYS_DOC,
  extraPattern: APP_KEY,
};

export function loadProxyConfig(env: Readonly<Record<string, string | undefined>>): ProxyConfig {
  const v = parseEnvChecked('proxy', proxyEnvSchema, withProxyVariables(env), (problems) => checkAppKeys(env, problems));
  return {
    brokerUrl: v.BROKER_URL,
    proxyId: v.PROXY_ID,
    brokerId: brokerIdOfProxy(v.PROXY_ID),
    privateKey: v.PRIVKEY_FILE,
    rootCertPem: v.ROOTCERT_FILE,
    bind: v.BIND_ADDR,
    logLevel: v.LOG_LEVEL,
    logFormat: v.LOG_FORMAT,
    apiKeys: apiKeysFrom(env, v.PROXY_ID),
    maxTtlMs: DEFAULT_MAX_TTL_MS,
    maxRecipients: v.MAX_RECIPIENTS,
    maxWaitingPerApp: v.MAX_WAITING_PER_APP,
    bodyLimitBytes: MAX_APP_REQUEST_BYTES,
    inlineBodyMaxBytes: v.INLINE_BODY_MAX,
    maxFileBytes: v.MAX_FILE_SIZE,
    brokerTimeoutMs: v.BROKER_TIMEOUT,
    brokerRetryBudgetMs: v.BROKER_RETRY_BUDGET,
    sseKeepAliveMs: v.SSE_KEEPALIVE,
    brokerAuth: v.BROKER_AUTH,
    certRefreshMs: v.CERT_REFRESH,
    certResyncMs: v.CERT_RESYNC,
    shutdownGraceMs: v.SHUTDOWN_GRACE,
    socketTtlMs: v.SOCKET_TTL,
    socketListWait: v.SOCKET_LIST_WAIT,
    messageClockSkewMs: v.MESSAGE_CLOCK_SKEW,
    egress: {
      httpsProxy: v.HTTPS_PROXY,
      httpProxy: v.HTTP_PROXY,
      allProxy: v.ALL_PROXY,
      noProxy: v.NO_PROXY,
      extraCas: v.TLS_CA_CERTIFICATES_DIR?.cas ?? [],
      caDir: v.TLS_CA_CERTIFICATES_DIR?.dir,
    },
  };
}

function proxyIdText(raw: string): string {
  if (!isValidBeamId(raw) || !raw.includes('.')) throw new Error(`expected <label>.<BrokerId>, got ${JSON.stringify(raw)}`);
  return raw;
}

/** Every `APP_<label>_KEY` must name a valid app label (checked with a stand-in when PROXY_ID itself is bad). */
function checkAppKeys(env: Readonly<Record<string, string | undefined>>, problems: ConfigProblems): void {
  const proxyId = isValidBeamId(env.PROXY_ID) && env.PROXY_ID.includes('.') ? env.PROXY_ID : 'proxy.broker';
  for (const name of Object.keys(env)) {
    const m = APP_KEY.exec(name);
    if (!m || !env[name]) continue;
    problems.check(name, () => {
      try {
        appIdOf(m[1], proxyId);
      } catch {
        throw new Error(`${JSON.stringify(m[1])} is not a valid app label, or app ${m[1]}.${proxyId} is too long`);
      }
    });
  }
}

/** `APP_<label>_KEY=<key>` defines app `<label>.<PROXY_ID>`. */
function apiKeysFrom(env: Readonly<Record<string, string | undefined>>, proxyId: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const [name, value] of Object.entries(env)) {
    const m = APP_KEY.exec(name);
    if (!m || !value) continue;
    keys.set(appIdOf(m[1], proxyId), createHash('sha256').update(value).digest());
  }
  return keys;
}
