import { PKI_STREAM } from '@beamline/nats';
import { readPkiJws } from '@beamline/pki';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevNetwork, startNatsServer, type NatsServerHandle } from '@beamline/devnet';

/**
 * The real apps are exercised by the end-to-end tests in test/. Here stand-ins take their place in a fake
 * dist/ to check the wiring: what each component gets in its environment, the start order, and clean-up.
 */
function fakeApp(name: string): string {
  return `
const fs = require('node:fs');
const http = require('node:http');
const id = process.env.PROXY_ID ?? '${name}';
fs.writeFileSync(require('node:path').join(process.env.ENV_OUT, id + '.json'), JSON.stringify(process.env));
if (id === 'crashing.broker') { console.error('cannot read PRIVKEY_FILE'); process.exit(1); }
const bind = process.env.BIND_ADDR ?? process.env.METRICS_ADDR;
if (bind) {
  const [host, port] = bind.split(':');
  const server = http.createServer((req, res) => { res.statusCode = req.url === '/v1/health' ? 200 : 404; res.end(); });
  server.listen(Number(port), host, () => console.log('listening on http://' + host + ':' + server.address().port));
} else {
  setInterval(() => {}, 1000);
}
`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('startDevNetwork (with stand-in apps)', () => {
  let distDir: string;
  let envOut: string;
  let nats: NatsServerHandle;

  beforeAll(async () => {
    distDir = mkdtempSync(join(tmpdir(), 'devnet-spec-dist-'));
    for (const app of ['broker-api', 'broker-store', 'proxy']) {
      mkdirSync(join(distDir, 'apps', app, 'src'), { recursive: true });
      writeFileSync(join(distDir, 'apps', app, 'src', 'main.js'), fakeApp(app));
    }
    envOut = join(distDir, 'env');
    mkdirSync(envOut);
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(distDir, { recursive: true, force: true });
  });

  const envOf = (name: string): Record<string, string> => JSON.parse(readFileSync(join(envOut, `${name}.json`), 'utf8'));
  const extraEnv = () => ({ 'broker-api': { ENV_OUT: envOut }, 'broker-store': { ENV_OUT: envOut }, proxy: { ENV_OUT: envOut } });

  it('starts its own NATS, wires every component as Beam expects, and stops everything', async () => {
    const net = await startDevNetwork({ distDir, extraEnv: extraEnv() });
    const pids = [...net.services.values()].map((s) => s.pid);
    const natsPid = net.nats?.pid ?? -1;
    const pkiDir = join(net.pki.rootCertFile, '..');
    try {
      expect([...net.services.keys()]).toEqual(['broker-store', 'broker-api', 'proxy1.broker', 'proxy2.broker']);
      expect(net.natsUrl).toBe(net.nats?.url);
      const brokerPort = Number(new URL(net.brokerUrl).port);
      expect(brokerPort).toBeGreaterThan(0);
      expect(net.brokerApiUrls).toEqual([net.brokerUrl]);
      expect((await fetch(`${net.brokerUrl}/v1/health`)).status).toBe(200);

      expect(envOf('broker-store')).toMatchObject({ NATS_URL: net.natsUrl, LOG_LEVEL: 'info', METRICS_ADDR: '127.0.0.1:0' });
      expect(envOf('broker-api')).toMatchObject({
        NATS_URL: net.natsUrl,
        BROKER_ID: 'broker',
        // Port 0: the OS picks it as broker-api binds, and the dev network reads it from broker-api's report.
        BIND_ADDR: '127.0.0.1:0',
        ROOTCERT_FILE: net.pki.rootCertFile,
        MONITORING_API_KEY: 'SuperSecretKey',
      });
      expect(envOf('broker-api').BROKER_URL).toBeUndefined();
      for (const [i, proxy] of net.proxies.entries()) {
        expect(proxy.url).toBe(`http://127.0.0.1:${proxy.port}`);
        expect((await fetch(`${proxy.url}/v1/health`)).status).toBe(200);
        const env = envOf(proxy.id);
        expect(env).toMatchObject({
          BROKER_URL: net.brokerUrl,
          PROXY_ID: proxy.id,
          PRIVKEY_FILE: net.pki.proxies[i].keyFile,
          ROOTCERT_FILE: net.pki.rootCertFile,
          BIND_ADDR: '127.0.0.1:0',
          APP_app1_KEY: 'App1Secret',
          APP_app2_KEY: 'App1Secret',
        });
        expect(env.NATS_URL).toBeUndefined();
      }
    } finally {
      await net.stop();
    }
    for (const pid of [...pids, natsPid]) expect(isAlive(pid)).toBe(false);
    expect(existsSync(pkiDir)).toBe(false);
  });

  it('uses a given NATS server and publishes the intermediate and every proxy certificate to it', async () => {
    const net = await startDevNetwork({
      distDir,
      natsUrl: nats.url,
      proxies: [{ id: 'site-a.broker' }],
      apps: [{ label: 'worker', key: 'k1' }],
      extraEnv: extraEnv(),
    });
    try {
      expect(net.nats).toBeUndefined();
      expect(envOf('site-a.broker')).toMatchObject({ APP_worker_KEY: 'k1' });
      const nc = await connect({ servers: nats.url });
      try {
        const jsm = await jetstreamManager(nc);
        const info = await jsm.streams.info(PKI_STREAM);
        expect(info.state.messages).toBeGreaterThanOrEqual(2);
        const last = await jsm.streams.getMessage(PKI_STREAM, { seq: info.state.last_seq });
        // CA-signed: {"jws": "<compact JWS>"} whose payload is the CertificatePublished event.
        const event = readPkiJws(last!.json<{ jws: string }>().jws).event;
        expect(event).toMatchObject({ type: 'CertificatePublished', serial: net.pki.proxies[0].serial });
      } finally {
        await nc.close();
      }
    } finally {
      await net.stop();
    }
    const nc = await connect({ servers: nats.url }); // the given server was left running
    await nc.close();
  });

  it('asks for the fixed ports it is given (the demo uses 8080-8082)', async () => {
    // A port we hold ourselves: the network must try exactly that one and fail on it, naming it.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const held = (blocker.address() as AddressInfo).port;
    try {
      await expect(startDevNetwork({ distDir, natsUrl: nats.url, proxies: [{ id: 'site-a.broker', port: held }], extraEnv: extraEnv() })).rejects.toThrow(
        new RegExp(`site-a\\.broker: 127\\.0\\.0\\.1:${held} is in use by another process`),
      );
      expect(envOf('site-a.broker').BIND_ADDR).toBe(`127.0.0.1:${held}`);
      await expect(startDevNetwork({ distDir, natsUrl: nats.url, brokerPort: held, extraEnv: extraEnv() })).rejects.toThrow(
        new RegExp(`broker-api: 127\\.0\\.0\\.1:${held} is in use by another process`),
      );
    } finally {
      blocker.close();
    }
  });

  it('stops what it started and rethrows when a component fails half-way', async () => {
    const before = new Set(childPids());
    await expect(startDevNetwork({ distDir, natsUrl: nats.url, proxies: [{ id: 'crashing.broker' }], extraEnv: extraEnv() })).rejects.toThrow(
      /crashing\.broker exited[\s\S]*cannot read PRIVKEY_FILE/,
    );
    const leftovers = childPids().filter((pid) => !before.has(pid));
    expect(leftovers).toEqual([]);
  });
});

/** Our live child processes (Linux), apart from the `ps` that lists them. */
function childPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=,stat=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, stat, comm]) => pid && !stat?.startsWith('Z') && comm !== 'ps')
    .map(([pid]) => Number(pid));
}
