/**
 * `beamline pki …` run as a user would (the built CLI in a child process) against a real nats-server; and
 * a broker-api that must ignore a forged revocation injected straight into BEAM_PKI.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { devSessionSecret, startHttpService, startNatsServer, type NatsServerHandle, type ServiceHandle } from '@beamline/devnet';
import { encodeJson, subjects } from '@beamline/nats';
import { initCa } from '@beamline/pki';
import { runCli } from './support/cli';

const BROKER = resolve(__dirname, '..', 'dist', 'apps', 'broker-api', 'src', 'main.js');

const pki = (args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}) => runCli(['pki', ...args], opts);

/** The base64 body of a PEM, without header lines and newlines. */
const pemBody = (pem: string): string => pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');

describe('beamline pki (CLI)', () => {
  let nats: NatsServerHandle;
  let dir: string;
  let caDir: string;
  let natsUrl: string;
  let serial: string;

  beforeAll(async () => {
    nats = await startNatsServer();
    natsUrl = nats.url;
    dir = mkdtempSync(join(tmpdir(), 'pki-cli-'));
    caDir = join(dir, 'ca');
  });
  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every subcommand has a --help that exits 0 and names its flags', async () => {
    const flags: Record<string, string[]> = {
      init: ['--ca-dir', '--validity-days', '--root-cn', '--im-cn'],
      enroll: ['--proxy-id', '--key-file', '--bits'],
      sign: ['--proxy-id', '--ca-dir', '--validity-days', '--out', '--nats-url', 'NATS_URL', '--no-publish'],
      revoke: ['--ca-dir', '--reason', '--nats-url'],
      list: ['--nats-url', '--json'],
    };
    for (const [sub, names] of Object.entries(flags)) {
      const run = await pki([sub, '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: beamline pki ${sub}`));
      expect(run.stdout).toMatch(/Example/);
      for (const name of names) expect(run.stdout).toContain(name);
    }
    const top = await pki(['--help']);
    expect(top.code).toBe(0);
    for (const sub of Object.keys(flags)) expect(top.stdout).toContain(`  ${sub}`);
  });

  it('usage errors exit 2 with one line and a pointer to --help on stderr, not the whole usage', async () => {
    for (const args of [
      [],
      ['frobnicate'],
      ['init'],
      ['init', '--ca-dir', caDir, '--bogus'],
      ['sign', '--proxy-id', 'p.b', '--ca-dir', caDir],
      ['init', '--ca-dir', caDir, '--validity-days', 'ten'],
    ]) {
      const run = await pki(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/^beamline pki[^\n]*: [^\n]+\nRun "beamline pki( \w+)? --help" for [^\n]+\n$/);
    }
    expect(existsSync(caDir)).toBe(false);
  });

  it('init writes the CA with 0600 keys and refuses to run twice', async () => {
    const run = await pki(['init', '--ca-dir', caDir, '--bits', '2048', '--root-cn', 'CLI Root']);
    expect(run).toMatchObject({ code: 0 });
    expect(run.stdout).toMatch(/root {10}CLI Root, serial [0-9a-f]{32}/);
    for (const f of ['root.crt.pem', 'im.crt.pem']) expect(readFileSync(join(caDir, f), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    for (const f of ['root.key.pem', 'im.key.pem']) expect(statSync(join(caDir, f)).mode & 0o777).toBe(0o600);
    const before = readFileSync(join(caDir, 'im.key.pem'), 'utf8');
    const again = await pki(['init', '--ca-dir', caDir, '--bits', '2048']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^beamline pki init: .* already holds a CA .*refusing to overwrite it\n$/);
    expect(readFileSync(join(caDir, 'im.key.pem'), 'utf8')).toBe(before);
  });

  it('enroll writes the key 0600 and prints only the CSR, never the key', async () => {
    const keyFile = join(dir, 'proxy1.priv.pem');
    const run = await pki(['enroll', '--proxy-id', 'proxy1.broker', '--key-file', keyFile, '--bits', '2048']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----\n[\s\S]+-----END CERTIFICATE REQUEST-----\n$/);
    expect(run.stderr).toMatch(/Private key written to .*proxy1\.priv\.pem \(mode 0600\)/);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const keyBody = pemBody(readFileSync(keyFile, 'utf8'));
    const everything = (run.stdout + run.stderr).replace(/\s/g, '');
    expect(everything).not.toContain('PRIVATEKEY-----');
    for (let i = 0; i + 64 <= keyBody.length; i += 64) expect(everything).not.toContain(keyBody.slice(i, i + 64));
    writeFileSync(join(dir, 'proxy1.csr.pem'), run.stdout);
    const twice = await pki(['enroll', '--proxy-id', 'proxy1.broker', '--key-file', keyFile, '--bits', '2048']);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/already exists; refusing to overwrite it/);
    const bad = await pki(['enroll', '--proxy-id', 'broker', '--key-file', join(dir, 'x.pem'), '--bits', '2048']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^beamline pki enroll: not a valid proxy id: "broker" has one label/);
  });

  it('sign refuses a CSR for another proxy id and a tampered CSR, with one-line errors', async () => {
    const wrong = await pki(['sign', join(dir, 'proxy1.csr.pem'), '--proxy-id', 'proxy2.broker', '--ca-dir', caDir, '--no-publish'], { cwd: dir });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe('beamline pki sign: the CSR is for "proxy1.broker", not for the expected proxy id "proxy2.broker"; refusing to sign\n');
    const csr = readFileSync(join(dir, 'proxy1.csr.pem'), 'utf8');
    // Change the CN inside the signed body: proxy1 → proxy9 (same length), keeping the signature.
    const der = Buffer.from(pemBody(csr), 'base64');
    const at = der.indexOf(Buffer.from('proxy1.broker'));
    der[at + 5] = '9'.charCodeAt(0);
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der
      .toString('base64')
      .match(/.{1,64}/g)!
      .join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    writeFileSync(join(dir, 'tampered.csr.pem'), tampered);
    const run = await pki(['sign', join(dir, 'tampered.csr.pem'), '--proxy-id', 'proxy9.broker', '--ca-dir', caDir, '--no-publish'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('beamline pki sign: the CSR signature does not verify: it was altered or is corrupt\n');
    expect(existsSync(join(dir, 'proxy9.broker.crt.pem'))).toBe(false);
  });

  it('sign publishes the certificate and list shows it valid', async () => {
    const run = await pki(['sign', join(dir, 'proxy1.csr.pem'), '--proxy-id', 'proxy1.broker', '--ca-dir', caDir, '--nats-url', natsUrl], { cwd: dir });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    serial = /serial +([0-9a-f]{32})/.exec(run.stdout)![1];
    expect(run.stdout).toMatch(/not before +\d{4}-.*\n +not after +\d{4}-/);
    expect(run.stdout).toMatch(/intermediate published/);
    expect(readFileSync(join(dir, 'proxy1.broker.crt.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const list = await pki(['list', '--ca-dir', caDir], { env: { NATS_URL: natsUrl } });
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^SERIAL +NAME +NOT BEFORE +NOT AFTER +STATUS\n/);
    expect(list.stdout).toMatch(new RegExp(`${serial} +proxy1\\.broker +\\S+ +\\S+ +valid\\n`));
    const json = JSON.parse((await pki(['list', '--json', '--nats-url', natsUrl])).stdout) as { serial: string; status: string }[];
    expect(json).toEqual([expect.objectContaining({ serial, proxyId: 'proxy1.broker', status: 'valid' })]);

    // A second CSR for proxy2: the intermediate is not published again.
    const csr2 = await pki(['enroll', '--proxy-id', 'proxy2.broker', '--key-file', join(dir, 'proxy2.priv.pem'), '--bits', '2048']);
    writeFileSync(join(dir, 'proxy2.csr.pem'), csr2.stdout);
    const run2 = await pki(['sign', 'proxy2.csr.pem', '--proxy-id', 'proxy2.broker', '--ca-dir', caDir, '--out', 'p2.pem', '--nats-url', natsUrl], {
      cwd: dir,
    });
    expect(run2.code).toBe(0);
    expect(run2.stdout).toMatch(/intermediate already published/);
    expect(existsSync(join(dir, 'p2.pem'))).toBe(true);
  });

  describe('with a broker-api following BEAM_PKI', () => {
    let broker: ServiceHandle;
    let brokerUrl: string;
    const directory = async (): Promise<{ serial: string; revoked: boolean; proxyId: string; pem: string }[]> =>
      (await fetch(`${brokerUrl}/v1/pki/certs`)).json() as Promise<{ serial: string; revoked: boolean; proxyId: string; pem: string }[]>;
    const eventually = async (check: () => Promise<boolean>): Promise<void> => {
      for (let i = 0; i < 100; i++) {
        if (await check().catch(() => false)) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`condition not met; broker logs:\n${broker.recentLogs()}`);
    };

    beforeAll(async () => {
      const started = await startHttpService({
        name: 'broker-api',
        script: BROKER,
        env: { NATS_URL: natsUrl, BROKER_ID: 'broker', ROOTCERT_FILE: join(caDir, 'root.crt.pem'), SESSION_SECRET: devSessionSecret() },
      });
      [broker, brokerUrl] = [started, started.url];
      await eventually(async () => (await directory()).some((e) => e.serial === serial));
    });
    afterAll(async () => broker?.stop());

    it('ignores a forged (unsigned) revocation injected into BEAM_PKI; honours the CA-signed one from revoke', async () => {
      const nc = await connect({ servers: natsUrl });
      try {
        await jetstream(nc).publish(subjects.certificateRevoked(serial), encodeJson({ type: 'CertificateRevoked', v: 1, serial, revokedAt: Date.now() }));
      } finally {
        await nc.close();
      }
      await eventually(async () => broker.recentLogs().includes('not a CA-signed event'));
      expect((await directory()).find((e) => e.serial === serial)).toMatchObject({ proxyId: 'proxy1.broker', revoked: false });
      expect(await (await fetch(`${brokerUrl}/v1/pki/certs/im-ca`)).text()).toBe(readFileSync(join(caDir, 'im.crt.pem'), 'utf8').replace(/\r\n/g, '\n'));
      const list = await pki(['list', '--ca-dir', caDir, '--nats-url', natsUrl]);
      expect(list.stdout).toMatch(new RegExp(`${serial} .* valid\\n`));
      expect(list.stderr).toMatch(/ignored event #\d+ on beam\.pki\.revoked\.[0-9a-f]+: not a CA-signed event/);

      const revoke = await pki(['revoke', serial, '--ca-dir', caDir, '--reason', 'key lost', '--nats-url', natsUrl]);
      expect(revoke.code).toBe(0);
      expect(revoke.stdout).toMatch(new RegExp(`Revoked certificate ${serial} \\(proxy1\\.broker\\): key lost`));
      await eventually(async () => (await directory()).find((e) => e.serial === serial)?.revoked === true);
      const after = await pki(['list', '--nats-url', natsUrl, '--ca-dir', caDir]);
      expect(after.stdout).toMatch(new RegExp(`${serial} +proxy1\\.broker +\\S+ +\\S+ +revoked\\n`));
      const json = JSON.parse((await pki(['list', '--json', '--nats-url', natsUrl, '--ca-dir', caDir])).stdout) as { serial: string }[];
      expect(json.find((e) => e.serial === serial)).toMatchObject({ status: 'revoked', revocationReason: 'key lost' });
      const unknown = await pki(['revoke', '10' + '0'.repeat(30), '--ca-dir', caDir, '--nats-url', natsUrl]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/is not in the directory/);
    });
  });

  it('an expired CA refuses to sign', async () => {
    const expired = join(dir, 'expired-ca');
    initCa(expired, { bits: 2048, validityDays: -1 });
    const run = await pki([
      'sign',
      join(dir, 'proxy1.csr.pem'),
      '--proxy-id',
      'proxy1.broker',
      '--ca-dir',
      expired,
      '--out',
      join(dir, 'never.pem'),
      '--no-publish',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^beamline pki sign: the root CA certificate \(Beamline Root CA\) expired at .*; refusing to sign\n$/);
    expect(existsSync(join(dir, 'never.pem'))).toBe(false);
  });

  it('fails with one line when NATS is unreachable', async () => {
    const run = await pki(['list', '--nats-url', 'nats://127.0.0.1:1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^beamline pki list: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: .*\n$/);
  });
});
