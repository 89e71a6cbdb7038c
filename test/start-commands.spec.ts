/**
 * The components' start commands and the CLI's edges, run as an operator runs them (built code in a child
 * process): a bad or missing setting is one line per problem and exit 2 with no stack trace, on every path;
 * `--help` and `--print-config`; "Waiting for NATS"; `--version`; did-you-mean; EPIPE; `.beamline/demo.env`.
 */
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { resolveNatsServerBinary, startNatsServer, type NatsServerHandle } from '@beamline/devnet';
import { EVENTS_STREAM } from '@beamline/nats';
import { CLI, runCli, type CliRun } from './support/cli';
import { newTask } from './support/app-client';

const mainOf = (app: string): string => resolve(__dirname, '..', 'dist', 'apps', app, 'src', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'start-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const keyFile = join(dir, 'proxy.priv.pem');
writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
const certFile = join(dir, 'root.crt.pem');
writeFileSync(certFile, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');

const PROXY_ENV = { BROKER_URL: 'http://broker:8080', PROXY_ID: 'proxy1.broker', PRIVKEY_FILE: keyFile, ROOTCERT_FILE: certFile, APP_app1_KEY: 'App1Secret' };
const SESSION_SECRET = randomBytes(32).toString('hex');
const BROKER_ENV = { ROOTCERT_FILE: certFile, SESSION_SECRET };

/** `node dist/apps/<app>/src/main.js <args>` with exactly `env` (and PATH). */
function runMainOf(app: string, env: Record<string, string>, args: string[] = []): Promise<CliRun> {
  return new Promise((done) => {
    execFile(process.execPath, [mainOf(app), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** `beamline <args>` with exactly `env` (and PATH). */
const beamline = (args: string[], env: Record<string, string> = {}): Promise<CliRun> =>
  runCli(args, { env: { ...Object.fromEntries(Object.keys(process.env).map((k) => [k, ''])), PATH: process.env.PATH ?? '', BEAMLINE_DEMO_ENV: '', ...env } });

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const noStack = (r: CliRun): void => expect(`${r.stdout}${r.stderr}`).not.toMatch(/^\s+at /m);

/**
 * A free port below the OS's ephemeral range (32768 and up on Linux), so no server another test binds to port 0
 * meanwhile can take it between this check and its use here.
 */
async function freePort(): Promise<number> {
  return freePortRun(1);
}

describe('start commands: bad configuration', () => {
  it('a missing PROXY_ID is one line and exit 2, from "beamline proxy" and from node main.js alike', async () => {
    const { PROXY_ID: _, ...env } = PROXY_ENV;
    for (const run of [await beamline(['proxy'], env), await runMainOf('proxy', env)]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toBe('proxy: bad configuration:\n  PROXY_ID: required\n');
      expect(run.stdout).toBe('');
    }
  });

  it('every bad proxy setting at once: a BROKER_URL without a scheme, a bad app label; no stack trace', async () => {
    const run = await runMainOf('proxy', { ...PROXY_ENV, BROKER_URL: 'broker:8080', 'APP_a.b_KEY': 'x', BIND_ADDR: 'nowhere' });
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('proxy: bad configuration:');
    expect(lines.slice(1).sort()).toEqual(
      [
        '  BROKER_URL: expected an http:// or https:// URL, got "broker:8080"',
        '  BIND_ADDR: expected host:port, got "nowhere"',
        '  APP_a.b_KEY: "a.b" is not a valid app label, or app a.b.proxy1.broker is too long',
      ].sort(),
    );
    noStack(run);
  });

  it('broker-api and broker-store refuse a NATS_URL that is not nats://host:port, one line each, exit 2', async () => {
    const api = await runMainOf('broker-api', { ...BROKER_ENV, NATS_URL: 'http://nats:4222', BROKER_URL: 'broker:8080' });
    expect(api.code).toBe(2);
    expect(api.stderr).toContain('  NATS_URL: expected nats://host:port (comma-separated for several), got "http://nats:4222"\n');
    expect(api.stderr).toContain('  BROKER_URL: expected an http:// or https:// URL, got "broker:8080"\n');
    const store = await beamline(['broker-store'], { NATS_URL: 'nats://nats.example.org' });
    expect(store.code).toBe(2);
    expect(store.stderr).toMatch(/^broker-store: bad configuration:\n {2}NATS_URL: .*the port is missing/);
    const missingSecret = await runMainOf('broker-api', { ROOTCERT_FILE: certFile });
    expect(missingSecret.code).toBe(2);
    expect(missingSecret.stderr).toMatch(/^ {2}SESSION_SECRET: required/m);
    for (const r of [api, store, missingSecret]) noStack(r);
  });

  it('an unknown argument is a usage error (exit 2) pointing at --help', async () => {
    const run = await beamline(['broker-store', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^broker-store: unknown argument "--bogus".*--help/);
  });
});

describe('start commands: --help and --print-config', () => {
  it('--help lists every setting with its default and meaning', async () => {
    const run = await beamline(['broker-api', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: beamline broker-api/);
    expect(run.stdout).toContain('  NATS_URL  (default: nats://127.0.0.1:4222)\n      NATS servers');
    expect(run.stdout).toContain('  ROOTCERT_FILE  (required)\n');
    expect(run.stdout).toContain('  EVENTS_MAX_BYTES  (default: 4GiB)');
    const proxy = await beamline(['help', 'proxy']);
    expect(proxy.stdout).toContain('  APP_<label>_KEY  (default: no apps)');
    expect(proxy.stdout).toContain('  SOCKET_LIST_WAIT  (default: now)');
  });

  it('--print-config shows the effective configuration with every secret redacted, and exits 0', async () => {
    const run = await beamline(['broker-api', '--print-config'], {
      ...BROKER_ENV,
      NATS_URL: 'nats://broker-api:pw1234@127.0.0.1:4222',
      MONITORING_API_KEY: 'SuperSecretKey',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('NATS_URL=nats://broker-api:<redacted>@127.0.0.1:4222\n');
    expect(run.stdout).toContain('SESSION_SECRET=<redacted>\n');
    expect(run.stdout).toContain('MONITORING_API_KEY=<redacted>\n');
    expect(run.stdout).toContain('MAX_WAIT=1h  # default\n');
    expect(run.stdout).not.toMatch(/pw1234|SuperSecretKey/);
    expect(run.stdout).not.toContain(SESSION_SECRET);
    const proxy = await runMainOf('proxy', PROXY_ENV, ['--print-config']);
    expect(proxy.code).toBe(0);
    expect(proxy.stdout).toContain('APP_app1_KEY=<redacted>\n');
    expect(proxy.stdout).not.toContain('App1Secret');
    const bad = await beamline(['proxy', '--print-config'], { ...PROXY_ENV, PROXY_ID: '' });
    expect(bad.code).toBe(2);
  });
});

describe('start-up against an unreachable NATS', () => {
  it('broker-store logs "Waiting for NATS at …" instead of hanging silently, then starts once NATS is there', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [mainOf('broker-store')], { env: { PATH: process.env.PATH ?? '', NATS_URL: `nats://127.0.0.1:${port}` } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let nats: NatsServerHandle | undefined;
    try {
      await until(() => output.includes('Waiting for NATS'), 10_000);
      expect(output).toContain(`Waiting for NATS at nats://127.0.0.1:${port}`);
      expect(output.match(/Waiting for NATS/g)).toHaveLength(1); // once, then every 10 s
      expect(child.exitCode).toBeNull(); // still waiting, not dead
      nats = await startNatsServer({ port });
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      // Connected and reconciled: broker-store created the event log.
      await until(async () => (await jsm.streams.info(EVENTS_STREAM).catch(() => undefined)) !== undefined, 20_000);
      await nc.close();
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill('SIGKILL');
      await nats?.stop();
    }
  }, 60_000);
});

describe('start-up against a NATS that refuses the login', () => {
  it('broker-store stops with exit 1 and one line naming the server, no stack trace', async () => {
    const port = await freePort();
    const server = spawn(resolveNatsServerBinary(), ['-a', '127.0.0.1', '-p', String(port), '--user', 'broker-store', '--pass', 'right']);
    try {
      await until(
        () =>
          new Promise((r) =>
            connect({ servers: `nats://127.0.0.1:${port}`, user: 'broker-store', pass: 'right' }).then(
              (nc) => r(nc.close().then(() => true)),
              () => r(false),
            ),
          ),
        10_000,
      );
      const passwordFile = join(dir, 'wrong.password');
      writeFileSync(passwordFile, 'wrong\n');
      const run = await runMainOf('broker-store', { NATS_URL: `nats://127.0.0.1:${port}`, NATS_USER: 'broker-store', NATS_PASSWORD_FILE: passwordFile });
      expect(run.code).toBe(1);
      expect(`${run.stdout}${run.stderr}`).toContain(`NATS at nats://127.0.0.1:${port} refused the login: Authorization Violation`);
      noStack(run);
    } finally {
      server.kill();
    }
  });
});

describe('beamline CLI edges', () => {
  it('--version prints the version from package.json', async () => {
    const run = await beamline(['--version']);
    expect(run).toEqual({
      code: 0,
      stdout: `beamline ${(JSON.parse(readFileSync(resolve(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version}\n`,
      stderr: '',
    });
  });

  it('a mistyped subcommand is one line with "did you mean" and a pointer to --help, exit 2', async () => {
    const run = await beamline(['pki', 'sing']);
    expect(run).toEqual({
      code: 2,
      stdout: '',
      stderr: 'beamline pki: unknown subcommand "sing"; did you mean "sign"?\nRun "beamline pki --help" for the subcommands.\n',
    });
    const command = await beamline(['brokr-api']);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe('beamline: unknown command "brokr-api"; did you mean "broker-api"?\nRun "beamline --help" for the commands.\n');
  });

  it('output into a closed pipe ends quietly with status 0 (EPIPE)', async () => {
    const script = `node ${JSON.stringify(CLI)} proxy --help | true; node ${JSON.stringify(CLI)} pki list --help | true; echo "status=\${PIPESTATUS[0]}" >&2`;
    const run = await new Promise<CliRun>((done) =>
      execFile('bash', ['-c', script], { env: { ...process.env, BEAMLINE_DEMO_ENV: '' } }, (err, stdout, stderr) =>
        done({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(run.stderr).toBe('status=0\n');
  });

  it("reads NATS_URL from the running demo's demo.env; an explicit NATS_URL wins", async () => {
    const envFile = join(dir, 'demo.env');
    const [demoPort, explicitPort] = [await freePort(), await freePort()];
    writeFileSync(envFile, `# a demo\nNATS_URL=nats://127.0.0.1:${demoPort}\n`);
    const fromDemo = await beamline(['pki', 'list'], { BEAMLINE_DEMO_ENV: envFile });
    expect(fromDemo.code).toBe(1);
    expect(fromDemo.stderr).toContain(`cannot connect to NATS at nats://127.0.0.1:${demoPort}`);
    const explicit = await beamline(['pki', 'list'], { BEAMLINE_DEMO_ENV: envFile, NATS_URL: `nats://127.0.0.1:${explicitPort}` });
    expect(explicit.stderr).toContain(`cannot connect to NATS at nats://127.0.0.1:${explicitPort}`);
  });
});

/** A base port with it and the next `count - 1` free on 127.0.0.1, below the ephemeral range (see freePort). */
async function freePortRun(count = 3): Promise<number> {
  for (;;) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const servers = [];
    try {
      for (let i = 0; i < count; i++) {
        const server = createServer();
        await new Promise<void>((ok, fail) => server.once('error', fail).listen(base + i, '127.0.0.1', ok));
        servers.push(server);
      }
      return base;
    } catch {
      // taken: try another
    } finally {
      for (const s of servers) await new Promise((r) => s.close(r));
    }
  }
}

/** The lines the demo echoed for `service` (`[service] <line>`), each parsed as JSON; throws on one that is not. */
function linesOf(output: string, service: string): Record<string, unknown>[] {
  const prefix = `[${service}] `;
  const lines = output.split('\n').filter((l) => l.startsWith(prefix));
  expect(lines.length).toBeGreaterThan(0);
  return lines.map((l) => JSON.parse(l.slice(prefix.length)) as Record<string, unknown>);
}

describe('beamline demo', () => {
  it("--port-base N: broker and proxies on N..N+2; /metrics open on all three; JSON log lines whose reqId matches the broker's; demo.env lets the README enrollment steps run as written; gone on stop", async () => {
    const base = await freePortRun();
    const envFile = join(dir, 'demo', 'demo.env');
    const env: NodeJS.ProcessEnv = { ...process.env, BEAMLINE_DEMO_ENV: envFile };
    delete env.NATS_URL;
    const demo = spawn(process.execPath, [CLI, 'demo', '--port-base', String(base)], { env });
    let output = '';
    demo.stdout.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((r) => demo.once('exit', (code) => r(code)));
    try {
      const deadline = Date.now() + 90_000;
      while (!output.includes('Beamline dev network is up.') && Date.now() < deadline && demo.exitCode === null) await new Promise((r) => setTimeout(r, 200));
      expect(output).toContain('Beamline dev network is up.');
      for (const port of [base, base + 1, base + 2]) expect((await fetch(`http://127.0.0.1:${port}/v1/health`)).status).toBe(200);

      // `curl :8080/metrics`, `:8081/metrics` and broker-store's (the banner names it), with no credentials.
      const storeUrl = /^ {2}broker-store +(http:\/\/\S+)/m.exec(output)?.[1];
      expect(storeUrl).toBeDefined();
      for (const url of [`http://127.0.0.1:${base}`, `http://127.0.0.1:${base + 1}`, storeUrl]) {
        const metrics = await fetch(`${url}/metrics`);
        expect([url, metrics.status]).toEqual([url, 200]);
        expect(await metrics.text()).toMatch(/^# TYPE beamline_http_requests_total counter$/m);
      }

      // The proxy's log under the demo: JSON lines, one access line per request, the same reqId as the broker's.
      const created = await fetch(`http://127.0.0.1:${base + 1}/v1/tasks`, {
        method: 'POST',
        headers: { authorization: `ApiKey app1.proxy1.broker App1Secret`, 'content-type': 'application/json', 'x-request-id': 'demo-req-1' },
        body: JSON.stringify(newTask('app1.proxy1.broker', ['app2.proxy2.broker'])),
      });
      expect(created.status).toBe(201);
      const logged = async (service: string): Promise<Record<string, unknown>> => {
        for (let i = 0; i < 100; i++) {
          const found = linesOf(output, service).find((e) => e.reqId === 'demo-req-1' && e.route === '/v1/tasks');
          if (found) return found;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(`no access line of demo-req-1 from ${service}`);
      };
      expect(await logged('proxy1.broker')).toMatchObject({ method: 'POST', status: 201, app: 'app1.proxy1.broker' });
      expect(await logged('broker-api')).toMatchObject({ method: 'POST', status: 201, proxy: 'proxy1.broker' });
      expect(linesOf(output, 'proxy1.broker').filter((e) => e.reqId === 'demo-req-1' && e.route !== undefined)).toHaveLength(1);
      const vars = readFileSync(envFile, 'utf8');
      expect(vars).toMatch(/^NATS_URL=nats:\/\/127\.0\.0\.1:\d+$/m);
      expect(vars).toContain(`BEAMLINE_CA_DIR=${join(dir, 'demo', 'demo-ca')}\n`);
      expect(vars).toContain(`BROKER_URL=http://127.0.0.1:${base}\n`);

      // README, "Enrolling a proxy", steps 2, 3 and 5 exactly as written (no --ca-dir, no --nats-url).
      const site = mkdtempSync(join(dir, 'site-'));
      const cli = (args: string[]) => runCli(args, { env: { BEAMLINE_DEMO_ENV: envFile }, cwd: site });
      const csr = await cli(['pki', 'enroll', '--proxy-id', 'proxy3.broker', '--key-file', 'proxy3.priv.pem']);
      expect(csr.code).toBe(0);
      writeFileSync(join(site, 'proxy3.csr.pem'), csr.stdout);
      const signed = await cli(['pki', 'sign', 'proxy3.csr.pem', '--proxy-id', 'proxy3.broker']);
      expect({ code: signed.code, stderr: signed.stderr }).toEqual({ code: 0, stderr: expect.any(String) as string });
      const list = await cli(['pki', 'list']);
      expect(list.code).toBe(0);
      expect(list.stderr).not.toContain('no root certificate'); // verified against the demo's own CA
      for (const id of ['proxy1.broker', 'proxy2.broker', 'proxy3.broker'])
        expect(list.stdout).toMatch(new RegExp(`  ${id.replace('.', '\\.')}  .*  valid\\n`));

      const second = await runCli(['demo', '--port-base', String(base)], { env: { BEAMLINE_DEMO_ENV: envFile } });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/another demo is running \(pid \d+/);
    } finally {
      demo.kill('SIGINT');
      expect(await exited).toBe(0);
    }
    expect(existsSync(envFile)).toBe(false);
    expect(existsSync(join(dir, 'demo', 'demo-ca'))).toBe(false);
  }, 150_000);
});
