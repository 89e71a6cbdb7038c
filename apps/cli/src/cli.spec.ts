import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliIo, Command } from './command';
import { runCli } from './cli';

function capture(): CliIo & { stdout: string; stderr: string } {
  const io = { stdout: '', stderr: '', out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('beamline', () => {
  it('--help lists the commands on stdout', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    expect(io.stdout).toMatch(/Usage: beamline <command>/);
    expect(io.stdout).toMatch(/\n {2}demo +run a local dev network/);
    expect(io.stderr).toBe('');
  });

  it('demo --help describes the demo without starting anything', async () => {
    const io = capture();
    expect(await runCli(['demo', '--help'], io)).toBe(0);
    expect(io.stdout).toMatch(/Usage: beamline demo/);
    expect(io.stdout).toMatch(/NATS_URL/);
    const help = capture();
    expect(await runCli(['help', 'demo'], help)).toBe(0);
    expect(help.stdout).toBe(io.stdout);
  });

  it('the commands that connect to NATS document its login and TLS variables in --help', async () => {
    for (const args of [
      ['pki', 'sign', '--help'],
      ['pki', 'list', '--help'],
      ['audit', 'replay', '--help'],
      ['pki', 'help', 'revoke'],
    ]) {
      const io = capture();
      expect(await runCli(args, io)).toBe(0);
      for (const name of ['NATS_USER', 'NATS_PASSWORD_FILE', 'NATS_CREDS', 'NATS_TLS_CA', 'NATS_TLS_CERT', 'NATS_TLS_KEY']) expect(io.stdout).toContain(name);
    }
    const init = capture();
    expect(await runCli(['pki', 'init', '--help'], init)).toBe(0);
    expect(init.stdout).not.toContain('NATS_USER'); // it does not connect
  });

  it('nats-certs makes a CA, a server certificate for the hosts and client certificates, and never overwrites them', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'nats-certs-')), 'tls');
    const io = capture();
    expect(await runCli(['nats-certs', '--dir', dir, '--host', 'nats-1', '--host', '10.0.0.7', '--client', 'broker-api'], io)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['broker-api.crt.pem', 'broker-api.key.pem', 'ca.crt.pem', 'ca.key.pem', 'server.crt.pem', 'server.key.pem']);
    const server = new X509Certificate(readFileSync(join(dir, 'server.crt.pem')));
    expect(server.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:nats-1, IP Address:10.0.0.7');
    expect(server.verify(new X509Certificate(readFileSync(join(dir, 'ca.crt.pem'))).publicKey)).toBe(true);
    expect(statSync(join(dir, 'server.key.pem')).mode & 0o777).toBe(0o600);
    const again = capture();
    expect(await runCli(['nats-certs', '--dir', dir], again)).toBe(1);
    expect(again.stderr).toContain('refusing to overwrite');
    expect(await runCli(['nats-certs'], capture())).toBe(2);
  });

  it('an unknown command is one line with a suggestion and a pointer to --help, exit 2; no command prints the usage', async () => {
    const io = capture();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr).toBe('beamline: unknown command "frobnicate"\nRun "beamline --help" for the commands.\n');
    expect(io.stdout).toBe('');
    const typo = capture();
    expect(await runCli(['pki', 'sing'], typo)).toBe(2);
    expect(typo.stderr).toBe('beamline pki: unknown subcommand "sing"; did you mean "sign"?\nRun "beamline pki --help" for the subcommands.\n');
    const option = capture();
    expect(await runCli(['audit', 'replay', '--nats-ur', 'x'], option)).toBe(2);
    expect(option.stderr).toMatch(/^beamline audit replay: unknown option --nats-ur; did you mean "--nats-url"\?\nRun "beamline audit replay --help"/);
    expect(option.stderr).not.toContain('Usage:');
    const none = capture();
    expect(await runCli([], none)).toBe(2);
    expect(none.stderr).toMatch(/^Usage: beamline/);
    const demo = capture();
    expect(await runCli(['demo', '--bogus'], demo)).toBe(2);
    expect(demo.stderr).not.toContain('Usage:');
    expect(await runCli(['demo', '--port-base', '70000'], capture())).toBe(2);
  });

  it('--version prints the version of package.json', async () => {
    const io = capture();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdout).toBe(
      `beamline ${(JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version}\n`,
    );
  });

  it('lists the start commands of the components', async () => {
    const io = capture();
    expect(await runCli(['--help'], io)).toBe(0);
    for (const name of ['proxy', 'broker-api', 'broker-store']) expect(io.stdout).toMatch(new RegExp(`\n  ${name} +start `));
  });

  it('turns a failing command into exit code 1 with the error on stderr', async () => {
    const failing: Command = { name: 'x', summary: '', usage: '', run: () => Promise.reject(new Error('nats down')) };
    const io = capture();
    expect(await runCli(['x'], io, [failing])).toBe(1);
    expect(io.stderr).toMatch(/beamline x: Error: nats down/);
  });
});
