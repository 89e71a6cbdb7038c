/**
 * The shipped NATS configurations (infra/nats) with TLS and logins switched on: nats-server 2.9.10 accepts
 * them (`-t`) given certificates where they expect them and the users' passwords in its environment, and
 * refuses to start when a password is missing. What the permissions allow is tested on a running server in
 * test/nats-security.spec.ts, which runs the same auth.conf.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeNatsTls, NATS_PASSWORD_VARIABLES, resolveNatsServerBinary } from '@beamline/devnet';

const INFRA = join(__dirname, '..', '..', 'infra', 'nats');
const CONFIGS = ['single-node.conf', 'cluster/node-1.conf', 'cluster/node-2.conf', 'cluster/node-3.conf'];

let dir: string;
let tlsDir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'infra-nats-spec-'));
  cpSync(INFRA, join(dir, 'nats'), { recursive: true });
  tlsDir = makeNatsTls(join(dir, 'tls'), { hosts: ['nats-1', 'nats-2', 'nats-3'] }).dir;
  // The configs' placeholder paths, pointed at this test's certificates and a temporary store.
  for (const conf of CONFIGS) {
    const path = join(dir, 'nats', conf);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('/etc/nats/tls/', `${tlsDir}/`).replaceAll('/var/lib/nats', join(dir, 'store')));
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const passwords = Object.fromEntries(Object.values(NATS_PASSWORD_VARIABLES).map((name) => [name, `pw-${name}`]));

function check(conf: string, env: Record<string, string>): { status: number | null; output: string } {
  const run = spawnSync(resolveNatsServerBinary(), ['-c', join(dir, 'nats', conf), '-t'], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

it('every shipped config switches on TLS and includes the logins', () => {
  expect(readdirSync(join(INFRA, 'cluster')).filter((f) => f.endsWith('.conf'))).toEqual(['node-1.conf', 'node-2.conf', 'node-3.conf']);
  for (const conf of CONFIGS) {
    const text = readFileSync(join(INFRA, conf), 'utf8');
    expect(text).toMatch(/^tls \{\n(?: {2}#.*\n)* {2}cert_file: "\/etc\/nats\/tls\/server\.crt\.pem"/m);
    expect(text).toMatch(/^include (\.\.\/)?auth\.conf$/m);
    expect(text).not.toMatch(/^\s*no_auth_user/m);
  }
  const cluster = readFileSync(join(INFRA, 'cluster', 'node-1.conf'), 'utf8');
  expect(cluster).toMatch(/cluster \{[^}]*\n {2}tls \{\n {4}cert_file:/);
});

it.each(CONFIGS)('nats-server 2.9 accepts %s with certificates and the passwords in its environment', (conf) => {
  const run = check(conf, passwords);
  expect(run.output).toContain('is valid');
  expect(run.status).toBe(0);
});

it('refuses to start without a user password, naming its variable', () => {
  const { BEAMLINE_NATS_CA_PASSWORD: _missing, ...others } = passwords;
  const run = check('single-node.conf', others);
  expect(run.status).not.toBe(0);
  expect(run.output).toContain("variable reference for 'BEAMLINE_NATS_CA_PASSWORD'");
});
