import { brokerStreamOptions, connectNats, ensurePkiStream, ensureStreams, readStorageSettings, type NatsTarget, type StorageSettings } from '@beamline/nats';
import { publishCertificate, publishIntermediate } from '@beamline/pki';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateDevPki, type DevPki } from './dev-pki';
import { startNatsCluster, type NatsCluster } from './nats-cluster';
import { startNatsServer, type NatsServerHandle } from './nats-server';
import { makeDevNatsSecurity, natsClientEnv, natsClientSettings, type DevNatsSecurity } from './nats-auth';
import { Launch, type LaunchedApp } from './launch';
import type { ServiceHandle } from './service';

export type DevNetworkComponent = LaunchedApp;

export interface DevNetworkOptions {
  /** Use this NATS server instead of starting one. */
  natsUrl?: string;
  /** 'broker' by default. */
  brokerId?: string;
  /** 0 (default) = a port the OS assigns as broker-api binds; the demo passes 8080. */
  brokerPort?: number;
  /** Default: proxy1.broker and proxy2.broker. A port of 0 or none = a port the OS assigns as the proxy binds. */
  proxies?: { id: string; port?: number }[];
  /** The apps every proxy serves (`APP_<label>_KEY`). Default: app1 and app2 with key 'App1Secret'. */
  apps?: { label: string; key: string }[];
  /** 'SuperSecretKey' by default. */
  monitoringApiKey?: string;
  /** Where the PKI files go; a temporary directory (removed on stop) by default. */
  dir?: string;
  /** Where the dev CA and the proxies' keys go (must not hold a CA yet); `<dir>/pki` by default. The demo names it. */
  pkiDir?: string;
  /** Echo every component's output to stdout with a `[name] ` prefix. */
  log?: boolean;
  /** Also write each service's whole output to `<logDir>/<name>.log` (the directory must exist). */
  logDir?: string;
  /** The build output holding `apps/<app>/src/main.js`; default `<repo root>/dist`. */
  distDir?: string;
  /** Extra environment per component (for every proxy under 'proxy', every replica under its component). */
  extraEnv?: Partial<Record<DevNetworkComponent, Record<string, string>>>;
  /**
   * Run NATS as infra/nats does it: TLS on the client port (a test CA; client certificates required) and the
   * logins and permissions of infra/nats/auth.conf. broker-api and broker-store log in as their own users,
   * the dev PKI is published as `beamline-ca`. Single server only (not with `natsUrl` or `natsCluster`).
   */
  natsSecurity?: boolean;
  /** Start a 3-node NATS JetStream cluster (`startNatsCluster`) instead of a single server. Ignored with `natsUrl`. */
  natsCluster?: true | { size: 3 };
  /** `STREAM_REPLICAS` of the broker components (and of the streams the dev network creates): 3 with `natsCluster`, else 1. */
  streamReplicas?: number;
  /** JetStream `max_file_store` (bytes) of the NATS server or of each cluster node the dev network starts. */
  maxFileStore?: number;
  /**
   * Storage settings (`EVENTS_MAX_BYTES`, `AUDIT_MAX_BYTES`, ..., `AUDIT_RETENTION`) for both broker components,
   * and for the streams the dev network creates before they start, so all of them agree.
   */
  storageEnv?: Record<string, string>;
  /**
   * How many broker-api processes to run, each on its own port (1 by default; with more, `brokerPort` is
   * the first replica's). They are named 'broker-api-1', 'broker-api-2', ... ('broker-api' when there is one).
   */
  brokerApiReplicas?: number;
  /** How many broker-store processes ('broker-store-1', ... ; 'broker-store' when there is one). 1 by default. */
  brokerStoreReplicas?: number;
  /**
   * What the proxies' one BROKER_URL points at: called with every broker-api replica's URL, returns the URL of
   * something in front of them (a round-robin balancer, a TLS front, a name only a forward proxy resolves)
   * and how to close it (after the proxies stopped). Without it the proxies use the first replica.
   */
  brokerFront?: (replicaUrls: string[]) => Promise<{ url: string; close(): Promise<void> | void }>;
}

export interface DevNetwork {
  natsUrl: string;
  /** Set when the dev network started its own single NATS server. */
  nats?: NatsServerHandle;
  /** Set when the dev network started its own NATS cluster (`natsCluster`). */
  natsCluster?: NatsCluster;
  /** With `natsSecurity`: the test CA, certificates and passwords (natsClientEnv / natsClientSettings log in with them). */
  natsSecurity?: DevNatsSecurity;
  /** What the proxies use: the (first) broker-api replica's URL, or the `brokerFront` URL. */
  brokerUrl: string;
  /** Each broker-api replica's own `http://127.0.0.1:<port>`, in replica order. */
  brokerApiUrls: string[];
  proxies: { id: string; url: string; port: number }[];
  pki: DevPki;
  /**
   * The `SESSION_SECRET` every broker-api replica of this network got (hex): made at random for the network,
   * never stored in NATS. A test that starts another replica passes the same one.
   */
  sessionSecret: string;
  /** 'broker-store', 'broker-api' (or 'broker-store-<i>', 'broker-api-<i>' with several replicas) and each proxy id. */
  services: Map<string, ServiceHandle>;
  /** Each broker-store replica's own listener (`/metrics`, `/v1/health`), in replica order. */
  brokerStoreUrls: string[];
  /** Stops proxies, broker-api, broker-store, then NATS (if started), then removes the temporary directory. */
  stop(): Promise<void>;
}

/** The names of Samply.Beam's "Getting started" walkthrough. */
export const DEV_DEFAULTS: Readonly<{
  brokerId: string;
  proxies: readonly { id: string; port?: number }[];
  apps: readonly { label: string; key: string }[];
  monitoringApiKey: string;
}> = {
  brokerId: 'broker',
  proxies: [{ id: 'proxy1.broker' }, { id: 'proxy2.broker' }],
  apps: [
    { label: 'app1', key: 'App1Secret' },
    { label: 'app2', key: 'App1Secret' },
  ],
  monitoringApiKey: 'SuperSecretKey',
};

/** A fresh random `SESSION_SECRET` for broker-api (32 bytes, hex), as `openssl rand -hex 32` makes one. */
export function devSessionSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Brings up a whole Beamline network from the built apps: NATS (unless `natsUrl`), a dev PKI published to
 * BEAM_PKI, broker-store, broker-api (ready when its /v1/health is 200) and each proxy (ready when its
 * /v1/health is 200). On a failure half-way it stops what it started and rethrows.
 */
export async function startDevNetwork(opts: DevNetworkOptions = {}): Promise<DevNetwork> {
  const launch = new Launch(opts.distDir ?? defaultDistDir(), opts.log ?? false, opts.logDir);
  try {
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'beamline-devnet-'));
    if (!opts.dir) launch.onStop(() => rmSync(dir, { recursive: true, force: true }));
    const natsSecurity = opts.natsSecurity ? makeDevNatsSecurity(join(dir, 'nats-security')) : undefined;
    const { natsUrl, nats, natsCluster } = await startNats(opts, launch, natsSecurity);
    /** How a component (or the CA's publisher) reaches NATS: its own login with natsSecurity, else the URL alone. */
    const natsEnvOf = (user: 'broker-api' | 'broker-store'): Record<string, string> =>
      natsSecurity ? natsClientEnv(natsSecurity, user, natsUrl) : { NATS_URL: natsUrl };
    const streamReplicas = opts.streamReplicas ?? (natsCluster ? 3 : 1);
    // STREAM_REPLICAS only when asked for, so a component's own default (and a caller's extraEnv) still applies otherwise.
    const storageEnv: Record<string, string> = {
      ...opts.storageEnv,
      ...(opts.streamReplicas !== undefined || natsCluster ? { STREAM_REPLICAS: String(streamReplicas) } : {}),
    };
    const proxySpecs = opts.proxies ?? DEV_DEFAULTS.proxies;
    const pki = generateDevPki(
      opts.pkiDir ?? join(dir, 'pki'),
      proxySpecs.map((p) => p.id),
    );
    await publishPki(
      natsSecurity ? natsClientSettings(natsSecurity, 'beamline-ca', natsUrl) : natsUrl,
      pki,
      readStorageSettings({ ...storageEnv, STREAM_REPLICAS: String(streamReplicas) }),
      { allStreams: !natsSecurity },
    );

    const storeReplicas = opts.brokerStoreReplicas ?? 1;
    const brokerStoreUrls: string[] = [];
    for (let i = 1; i <= storeReplicas; i++) {
      const env = { ...natsEnvOf('broker-store'), LOG_LEVEL: 'info', ...storageEnv, ...opts.extraEnv?.['broker-store'] };
      brokerStoreUrls.push((await launch.http(storeReplicas === 1 ? 'broker-store' : `broker-store-${i}`, 'broker-store', env, undefined)).url);
    }
    // One secret for every replica (a session opened on one is valid on all), passed to them and kept nowhere else.
    const sessionSecret = devSessionSecret();
    const brokerApiEnv = { ...natsEnvOf('broker-api'), ROOTCERT_FILE: pki.rootCertFile, SESSION_SECRET: sessionSecret, ...storageEnv };
    const { brokerUrl, brokerApiUrls } = await startBrokerApis(opts, launch, brokerApiEnv);
    const proxies = await startProxies(opts, launch, brokerUrl, pki);
    const services = launch.services;
    return {
      natsUrl,
      nats,
      natsCluster,
      natsSecurity,
      brokerUrl,
      brokerApiUrls,
      brokerStoreUrls,
      proxies,
      pki,
      sessionSecret,
      services,
      stop: () => launch.stop(),
    };
  } catch (err) {
    await launch.stop().catch(() => undefined); // the original failure is the one worth reporting
    throw err;
  }
}

/** The network's NATS: `natsUrl` as given, else a cluster or a single server started for it. */
async function startNats(
  opts: DevNetworkOptions,
  launch: Launch,
  security: DevNatsSecurity | undefined,
): Promise<{ natsUrl: string; nats?: NatsServerHandle; natsCluster?: NatsCluster }> {
  if (security && (opts.natsUrl || opts.natsCluster))
    throw new Error('startDevNetwork: natsSecurity runs its own single NATS server (no natsUrl, no natsCluster)');
  if (opts.natsUrl) return { natsUrl: opts.natsUrl };
  const log = opts.log ?? false;
  if (opts.natsCluster) {
    const natsCluster = await startNatsCluster({ size: opts.natsCluster === true ? 3 : opts.natsCluster.size, log, maxFileStore: opts.maxFileStore });
    launch.onStop(() => natsCluster.stop());
    return { natsUrl: natsCluster.url, natsCluster };
  }
  const nats = await startNatsServer({ log, maxFileStore: opts.maxFileStore, security });
  launch.onStop(() => nats.stop());
  return { natsUrl: nats.url, nats };
}

/** broker-api replicas, and in front of several the caller's front (a load balancer) when it gives one. */
async function startBrokerApis(
  opts: DevNetworkOptions,
  launch: Launch,
  shared: Record<string, string>,
): Promise<{ brokerUrl: string; brokerApiUrls: string[] }> {
  const replicas = opts.brokerApiReplicas ?? 1;
  const brokerApiUrls: string[] = [];
  for (let i = 1; i <= replicas; i++) {
    // BROKER_ID is set, so broker-api needs no BROKER_URL (it only derives the id from it) and no port in advance.
    const env = {
      ...shared,
      BROKER_ID: opts.brokerId ?? DEV_DEFAULTS.brokerId,
      MONITORING_API_KEY: opts.monitoringApiKey ?? DEV_DEFAULTS.monitoringApiKey,
      ...opts.extraEnv?.['broker-api'],
    };
    const replica = await launch.http(replicas === 1 ? 'broker-api' : `broker-api-${i}`, 'broker-api', env, i === 1 ? opts.brokerPort : undefined);
    brokerApiUrls.push(replica.url);
  }
  if (!opts.brokerFront) return { brokerUrl: brokerApiUrls[0], brokerApiUrls };
  const front = await opts.brokerFront(brokerApiUrls);
  launch.onStop(() => front.close());
  return { brokerUrl: front.url, brokerApiUrls };
}

async function startProxies(opts: DevNetworkOptions, launch: Launch, brokerUrl: string, pki: DevPki): Promise<DevNetwork['proxies']> {
  const appKeys = Object.fromEntries((opts.apps ?? DEV_DEFAULTS.apps).map((app) => [`APP_${app.label}_KEY`, app.key]));
  const proxies: DevNetwork['proxies'] = [];
  for (const [i, spec] of (opts.proxies ?? DEV_DEFAULTS.proxies).entries()) {
    const env = {
      BROKER_URL: brokerUrl,
      PROXY_ID: spec.id,
      PRIVKEY_FILE: pki.proxies[i].keyFile,
      ROOTCERT_FILE: pki.rootCertFile,
      ...appKeys,
      ...opts.extraEnv?.proxy,
    };
    const proxy = await launch.http(spec.id, 'proxy', env, spec.port);
    proxies.push({ id: spec.id, url: proxy.url, port: proxy.port });
  }
  return proxies;
}

/**
 * Creates BEAM_PKI and publishes the intermediate (signed by the root) and every proxy certificate (signed by
 * the intermediate) with the same functions as `beamline pki sign`, as the CA's NATS user would.
 */
/**
 * Publishes the dev PKI. With `allStreams` every stream is created first (what is missing only), as an operator
 * would provision them before starting the brokers: on a 3-node cluster, broker-api reconciling a stream that
 * broker-store created a moment earlier can wait longer than the JetStream API timeout while the new stream's
 * group forms. The CA's login (natsSecurity) may create BEAM_PKI only; the brokers create the rest.
 */
async function publishPki(nats: NatsTarget, pki: DevPki, storage: StorageSettings, opts: { allStreams: boolean }): Promise<void> {
  const nc = await connectNats(nats, 'beamline-devnet');
  try {
    const jsm = await jetstreamManager(nc);
    const options = { ...brokerStreamOptions(storage), reconcile: false };
    await (opts.allStreams ? ensureStreams(jsm, options) : ensurePkiStream(jsm, options));
    const js = jetstream(nc);
    await publishIntermediate(js, pki.loadedCa);
    for (const proxy of pki.proxies) await publishCertificate(js, pki.loadedCa, proxy.certPem);
  } finally {
    await nc.close();
  }
}

/**
 * `<repo root>/dist`: this file is `libs/devnet/src/dev-network.ts` in the sources (tests) and
 * `dist/libs/devnet/src/dev-network.js` when built, so the build root is three levels up either way.
 */
function defaultDistDir(): string {
  const up = resolve(__dirname, '..', '..', '..');
  return __filename.endsWith('.ts') ? join(up, 'dist') : up;
}
