/**
 * Packaging: every service of infra/compose/central.yml and infra/compose/site.yml, and every unit in
 * infra/systemd, started as declared (command through the image's entrypoint, or the unit's ExecStart; the
 * declared environment, env files and secrets) outside containers, since there is no container engine here,
 * against the 3 nats-servers the compose file declares, and a task cycle through each.
 *
 * What cannot be the same outside containers is mapped, explicitly and only here (`MAPPING`, `localize`):
 * container paths to files this test writes, service host names to 127.0.0.1 and ports the OS assigned, and
 * the TLS front (nginx is not installed here) to a plain round-robin balancer over the broker-api replicas.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  generateDevPki,
  makeNatsTls,
  NATS_PASSWORD_VARIABLES,
  resolveNatsServerBinary,
  startRoundRobin,
  type DevPki,
  type NatsUser,
  type RoundRobin,
} from '@beamline/devnet';
import { brokerStreamOptions, connectNats, ensurePkiStream, readStorageSettings } from '@beamline/nats';
import { publishCertificate, publishIntermediate } from '@beamline/pki';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { AppClient, newResult, newTask } from './support/app-client';
import { DeclaredService } from './support/declared-service';

// js-yaml comes with the dev tools (eslint); there are no types for it.
const yaml = require('js-yaml') as { load(text: string): unknown };

const ROOT = resolve(__dirname, '..');
const INFRA = join(ROOT, 'infra');
const LOG = process.env.BEAMLINE_TEST_LOG === '1';

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  volumes?: string[];
  secrets?: { source: string; target: string }[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
}

const central = yaml.load(readFileSync(join(INFRA, 'compose', 'central.yml'), 'utf8')) as ComposeFile;
const site = yaml.load(readFileSync(join(INFRA, 'compose', 'site.yml'), 'utf8')) as ComposeFile;

let dir: string;
let pki: DevPki;
const started: DeclaredService[] = [];
let front: RoundRobin | undefined;
/** Container or host name → what it is here. Filled as the test sets things up; every mapping is in it. */
const MAPPING = new Map<string, string>();
/** What a proxy's BROKER_URL (https://broker.example.org) is here. broker-api's own BROKER_URL stays: its host is the BrokerId. */
let brokerForProxies = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'beamline-packaging-'));
  writeCentralSecrets();
  pki = generateDevPki(join(dir, 'pki'), ['site1.broker.example.org', 'site2.broker.example.org']);
  // The broker's root certificate (central ./secrets) and the site's key and root (site ./site), as an operator
  // and a site would put them there.
  writeFileSync(join(dir, 'compose', 'secrets', 'root.crt.pem'), readFileSync(pki.rootCertFile));
  mkdirSync(join(dir, 'compose', 'site', 'ca-certificates'), { recursive: true });
  writeFileSync(join(dir, 'compose', 'site', 'proxy.key.pem'), readFileSync(pki.proxies[0].keyFile), { mode: 0o600 });
  writeFileSync(join(dir, 'compose', 'site', 'root.crt.pem'), readFileSync(pki.rootCertFile));
  writeFileSync(join(dir, 'compose', 'site', 'app-keys.env'), 'APP_app1_KEY=App1Secret\nAPP_app2_KEY=App2Secret\n', { mode: 0o600 });
  await startNatsNodes();
}, 120_000);

afterAll(async () => {
  for (const service of started.reverse()) await service.stop();
  await front?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the image', () => {
  it('is multi-stage, runs as a non-root user, and its entrypoint picks the component', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(2);
    expect(dockerfile).toMatch(/^FROM node:20-bookworm AS build$/m);
    expect(dockerfile).toMatch(/^FROM node:20-bookworm-slim AS runtime$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    // The mapping every compose service below is started through.
    expect(dockerfile).toContain('COPY infra/docker/entrypoint.sh /usr/local/bin/beamline-entrypoint');
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/beamline-entrypoint"\]$/m);
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
  });

  it('passes any other command to the beamline CLI', () => {
    const run = spawnSync('sh', [join(INFRA, 'docker', 'entrypoint.sh'), '--help'], { env: { PATH: process.env.PATH, BEAMLINE_HOME: ROOT }, encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: beamline <command>/);
  });
});

describe('infra/compose/central.yml and site.yml, as declared', () => {
  it('declares 3 NATS nodes, 2 broker-api, 2 broker-store and a TLS front', () => {
    expect(Object.keys(central.services).sort()).toEqual([
      'broker-api-1',
      'broker-api-2',
      'broker-store-1',
      'broker-store-2',
      'front',
      'nats-1',
      'nats-2',
      'nats-3',
    ]);
    const nginx = readFileSync(join(INFRA, 'compose', 'nginx', 'broker-front.conf'), 'utf8');
    expect(nginx).toMatch(/listen 443 ssl;/);
    expect([...nginx.matchAll(/server (broker-api-\d):8080;/g)].map((m) => m[1])).toEqual(['broker-api-1', 'broker-api-2']);
    for (const name of ['broker-api-1', 'broker-store-1'])
      expect(Object.keys(central.services[name].environment ?? {})).toEqual(expect.arrayContaining(['NATS_USER', 'NATS_PASSWORD_FILE', 'NATS_TLS_CA']));
    expect(central.services['broker-api-1'].environment?.SESSION_SECRET_FILE).toBe('/run/secrets/session-secret');
    expect(Object.keys(site.services.proxy.environment ?? {})).toEqual(expect.arrayContaining(['HTTPS_PROXY', 'NO_PROXY', 'TLS_CA_CERTIFICATES_DIR']));
  });

  it('every central service and the site proxy start as declared, and a task cycle passes through them', async () => {
    for (const name of ['broker-store-1', 'broker-store-2']) {
      const store = startCompose(central, name);
      await store.waitForLine(/caught up at sequence/, 60_000);
    }
    const apis: string[] = [];
    for (const name of ['broker-api-1', 'broker-api-2']) apis.push(await startCompose(central, name).httpReady());
    front = await startRoundRobin(apis);
    brokerForProxies = front.url; // the TLS front (nginx, not installed here)
    await publishPki();
    const proxyUrl = await startCompose(site, 'proxy').httpReady('/v1/health', 90_000);
    MAPPING.set('site proxy', proxyUrl);
    await taskCycle(new AppClient(proxyUrl, 'app1.site1.broker.example.org'), new AppClient(proxyUrl, 'app2.site1.broker.example.org', 'App2Secret'));
    expect(front.stats.forwarded.every((n) => n > 0)).toBe(true); // both broker-api replicas served
  }, 240_000);
});

describe('infra/systemd, as declared', () => {
  const units = ['broker-store', 'broker-api', 'proxy'];

  it('each unit restarts on failure, runs unprivileged and hardened', () => {
    for (const unit of units) {
      const text = readFileSync(join(INFRA, 'systemd', `beamline-${unit}.service`), 'utf8');
      for (const line of ['Restart=on-failure', 'User=beamline', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'CapabilityBoundingSet='])
        expect(text.split('\n')).toContain(line);
      expect(text).toMatch(new RegExp(`^EnvironmentFile=/etc/beamline/${unit}\\.env$`, 'm'));
    }
  });

  it('broker-store, broker-api and a second site proxy started from the units complete a task cycle with the compose site', async () => {
    const store = startUnit('broker-store');
    await store.waitForLine(/caught up at sequence/, 60_000);
    const api = await startUnit('broker-api').httpReady();
    brokerForProxies = api; // this unit's proxy reaches the unit's broker-api directly
    const proxyUrl = await startUnit('proxy').httpReady('/v1/health', 90_000);
    const composeSite = MAPPING.get('site proxy');
    expect(composeSite).toBeDefined();
    await taskCycle(new AppClient(composeSite!, 'app1.site1.broker.example.org'), new AppClient(proxyUrl, 'app2.site2.broker.example.org', 'change-me-app2'));
  }, 240_000);
});

/** A task from `from` to `to`, listed, claimed and answered, and the answer read back. */
async function taskCycle(from: AppClient, to: AppClient): Promise<void> {
  const task = newTask(from.appId, [to.appId]);
  expect((await from.postTask(task)).status).toBe(201);
  const todo = await to.get('/v1/tasks?filter=todo&wait_count=1&wait_time=20s');
  expect(todo.status).toBe(200);
  expect((todo.json as { id: string; body: string }[]).find((t) => t.id === task.id)?.body).toBe(task.body);
  expect((await to.putResult(task.id, newResult(task, to.appId, [from.appId], { status: 'claimed', body: undefined }))).status).toBe(201);
  const answer = newResult(task, to.appId, [from.appId]);
  expect((await to.putResult(task.id, answer)).status).toBe(204);
  const results = await from.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=20s`);
  expect(results.status).toBe(200);
  expect(results.json).toEqual([expect.objectContaining({ from: to.appId, status: 'succeeded', body: answer.body })]);
}

// --- compose ---------------------------------------------------------------------------------------------

/** `docker compose up <name>` without docker: the image's entrypoint with the service's command and environment. */
function startCompose(file: ComposeFile, name: string): DeclaredService {
  const service = file.services[name];
  const env: Record<string, string> = { ...readEnvFile(service.env_file), ...service.environment };
  // /run/secrets/<target> is where compose mounts each secret; here, the file the top-level `secrets` names.
  for (const s of service.secrets ?? []) MAPPING.set(`/run/secrets/${s.target}`, composePath(file.secrets![s.source].file));
  for (const volume of service.volumes ?? []) {
    const [from, to] = volume.split(':');
    MAPPING.set(to, composePath(from));
  }
  // The image: ENTRYPOINT /usr/local/bin/beamline-entrypoint (infra/docker/entrypoint.sh), WORKDIR /app (this checkout).
  const argv = ['sh', join(INFRA, 'docker', 'entrypoint.sh'), ...(service.command ?? [])];
  return start(name, argv, { ...localize(env), BEAMLINE_HOME: ROOT });
}

/** A compose-relative host path (`./secrets/x`): the same under this test's directory. */
function composePath(path: string): string {
  return path.startsWith('./') ? join(dir, 'compose', path.slice(2)) : resolve(INFRA, 'compose', path);
}

function readEnvFile(path: string | undefined): Record<string, string> {
  if (!path) return {};
  const file = path.startsWith('/etc/beamline/') ? join(INFRA, 'systemd', `${path.slice('/etc/beamline/'.length)}.example`) : composePath(path);
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

// --- systemd ---------------------------------------------------------------------------------------------

/** `systemctl start beamline-<unit>` without systemd: ExecStart with Environment= and the example EnvironmentFile. */
function startUnit(unit: string): DeclaredService {
  const text = readFileSync(join(INFRA, 'systemd', `beamline-${unit}.service`), 'utf8');
  const directive = (key: string): string[] => [...text.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]);
  const env: Record<string, string> = {};
  for (const file of directive('EnvironmentFile')) Object.assign(env, readEnvFile(file));
  for (const assignment of directive('Environment')) env[assignment.slice(0, assignment.indexOf('='))] = assignment.slice(assignment.indexOf('=') + 1);
  // /usr/bin/node is this Node; /opt/beamline is this checkout (its dist/ built by `npm run build`).
  const argv = directive('ExecStart')[0]
    .split(' ')
    .map((word) => (word === '/usr/bin/node' ? process.execPath : word.replace(/^\/opt\/beamline\//, `${ROOT}/`)));
  // The example's second site: site2 (the compose site is site1), its key from the test's PKI.
  if (unit === 'proxy') MAPPING.set('site1.broker.example.org', 'site2.broker.example.org');
  MAPPING.set('/etc/beamline/proxy.key.pem', pki.proxies[1].keyFile);
  MAPPING.set('/etc/beamline/root.crt.pem', pki.rootCertFile);
  MAPPING.set('/etc/beamline/session-secret', join(dir, 'compose', 'secrets', 'session-secret'));
  MAPPING.set('/etc/beamline/nats-broker-api.password', join(dir, 'compose', 'secrets', 'nats-broker-api.password'));
  MAPPING.set('/etc/beamline/nats-broker-store.password', join(dir, 'compose', 'secrets', 'nats-broker-store.password'));
  MAPPING.set('/etc/beamline/nats-ca.crt.pem', join(dir, 'compose', 'secrets', 'nats-ca.crt.pem'));
  MAPPING.set('/etc/beamline/ca-certificates', join(dir, 'compose', 'site', 'ca-certificates'));
  const localized = localize(env);
  MAPPING.delete('site1.broker.example.org');
  return start(`unit:${unit}`, argv, localized);
}

// --- the explicit mapping ---------------------------------------------------------------------------------

/**
 * The declared environment as it must be on this one host:
 * - every MAPPING key (paths, host names, the broker's URL) replaced by its value;
 * - BIND_ADDR and METRICS_ADDR `0.0.0.0:<port>` (one container each) → 127.0.0.1, port 0: the OS assigns one,
 *   the app prints it;
 * - HTTPS_PROXY / HTTP_PROXY dropped: there is no hospital forward proxy here (the egress tests cover them);
 * - a proxy's BROKER_URL → `brokerForProxies`.
 */
function localize(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key === 'HTTPS_PROXY' || key === 'HTTP_PROXY') continue;
    if (key === 'BIND_ADDR' || key === 'METRICS_ADDR') {
      out[key] = '127.0.0.1:0';
      continue;
    }
    if (key === 'BROKER_URL' && env.PROXY_ID !== undefined) {
      out[key] = brokerForProxies;
      continue;
    }
    let v = value;
    for (const [from, to] of [...MAPPING].sort((a, b) => b[0].length - a[0].length)) v = v.replaceAll(from, to);
    out[key] = v;
  }
  return out;
}

function start(name: string, argv: string[], env: Record<string, string>): DeclaredService {
  const service = new DeclaredService({ name, argv, env, log: LOG });
  started.push(service);
  return service;
}

// --- what an operator prepares: secrets, TLS, the NATS nodes, the PKI ---------------------------------------

// nats-server parses a variable's value as a config value: `12e4ab…` (a number), `2024-…` (a date) or `-…` break
// its start-up. So the passwords start with a letter, as README ("Packaging") tells operators to make them.
const passwords = Object.fromEntries(Object.keys(NATS_PASSWORD_VARIABLES).map((user) => [user, `p${randomBytes(16).toString('hex')}`])) as Record<
  NatsUser,
  string
>;

function writeCentralSecrets(): void {
  const secrets = join(dir, 'compose', 'secrets');
  mkdirSync(secrets, { recursive: true });
  const lines = Object.entries(NATS_PASSWORD_VARIABLES).map(([user, variable]) => `${variable}=${passwords[user as NatsUser]}`);
  writeFileSync(join(secrets, 'nats-passwords.env'), `${lines.join('\n')}\n`, { mode: 0o600 });
  writeFileSync(join(secrets, 'nats-broker-api.password'), `${passwords['broker-api']}\n`, { mode: 0o600 });
  writeFileSync(join(secrets, 'nats-broker-store.password'), `${passwords['broker-store']}\n`, { mode: 0o600 });
  writeFileSync(join(secrets, 'session-secret'), `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  const tls = makeNatsTls(join(dir, 'compose', 'tls', 'nats'), { hosts: ['nats-1', 'nats-2', 'nats-3'] });
  writeFileSync(join(secrets, 'nats-ca.crt.pem'), readFileSync(tls.caCertFile));
}

/**
 * nats-1..3 as declared: nats-server with the command's config, the volumes mounted (infra/nats at /etc/nats,
 * ./tls/nats at /etc/nats/tls, a store at /var/lib/nats) and the passwords from the env file. The three would
 * each own ports 4222/6222/8222 and a host name; here each gets its own ports on 127.0.0.1, written into its
 * copy of the config with the routes pointed at the others'.
 */
async function startNatsNodes(): Promise<void> {
  const nodes = ['nats-1', 'nats-2', 'nats-3'];
  const ports = await Promise.all(nodes.map(async () => ({ client: await freePort(), route: await freePort(), http: await freePort() })));
  const clientUrls: string[] = [];
  for (const [i, name] of nodes.entries()) {
    const service = central.services[name];
    const etc = join(dir, name, 'etc-nats');
    cpSync(join(INFRA, 'nats'), etc, { recursive: true }); // `../nats:/etc/nats:ro`, copied: ports are rewritten below
    const conf = service.command![1].replace('/etc/nats/', `${etc}/`);
    let text = readFileSync(conf, 'utf8')
      .replaceAll('/etc/nats/tls/', `${join(dir, 'compose', 'tls', 'nats')}/`)
      .replaceAll('/var/lib/nats', join(dir, name, 'store'))
      .replace('listen: 0.0.0.0:4222', `listen: 127.0.0.1:${ports[i].client}`)
      .replace('listen: 0.0.0.0:6222', `listen: 127.0.0.1:${ports[i].route}`)
      .replace('http: 0.0.0.0:8222', `http: 127.0.0.1:${ports[i].http}`);
    for (const [j, peer] of nodes.entries()) text = text.replace(`nats-route://${peer}:6222`, `nats-route://127.0.0.1:${ports[j].route}`);
    writeFileSync(conf, text);
    const argv = [resolveNatsServerBinary(), service.command![0], conf];
    start(name, argv, readEnvFile(service.env_file));
    MAPPING.set(`nats://${name}:4222`, `nats://127.0.0.1:${ports[i].client}`);
    clientUrls.push(`http://127.0.0.1:${ports[i].http}`);
  }
  await waitForMetaLeader(clientUrls);
}

async function waitForMetaLeader(monitors: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const leaders = await Promise.all(
      monitors.map((m) =>
        fetch(`${m}/jsz`)
          .then((r) => r.json() as Promise<{ meta_cluster?: { leader?: string } }>)
          .then((j) => j.meta_cluster?.leader)
          .catch(() => undefined),
      ),
    );
    if (leaders.every((l) => l)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no JetStream meta leader:\n${started.map((s) => s.logs()).join('\n')}`);
}

/** The CA operator publishes the intermediate and both sites' certificates (as `beamline pki sign` does), as beamline-ca. */
async function publishPki(): Promise<void> {
  const servers = localize({ NATS_URL: central.services['broker-api-1'].environment!.NATS_URL }).NATS_URL;
  const ca = readFileSync(join(dir, 'compose', 'secrets', 'nats-ca.crt.pem'), 'utf8');
  const nc = await connectNats({ servers, login: { user: 'beamline-ca', password: passwords['beamline-ca'] }, tls: { ca } }, 'packaging-ca');
  try {
    const options = { ...brokerStreamOptions(readStorageSettings({ STREAM_REPLICAS: '3' })), reconcile: false };
    await ensurePkiStream(await jetstreamManager(nc), options);
    const js = jetstream(nc);
    await publishIntermediate(js, pki.loadedCa);
    for (const proxy of pki.proxies) await publishCertificate(js, pki.loadedCa, proxy.certPem);
  } finally {
    await nc.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}
