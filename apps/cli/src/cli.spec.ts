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

  it('an unknown command or no command prints the usage on stderr and exits 2', async () => {
    const io = capture();
    expect(await runCli(['frobnicate'], io)).toBe(2);
    expect(io.stderr).toMatch(/unknown command "frobnicate"[\s\S]*Usage: beamline/);
    expect(io.stdout).toBe('');
    expect(await runCli([], capture())).toBe(2);
    expect(await runCli(['demo', '--bogus'], capture())).toBe(2);
  });

  it('turns a failing command into exit code 1 with the error on stderr', async () => {
    const failing: Command = { name: 'x', summary: '', usage: '', run: () => Promise.reject(new Error('nats down')) };
    const io = capture();
    expect(await runCli(['x'], io, [failing])).toBe(1);
    expect(io.stderr).toMatch(/beamline x: Error: nats down/);
  });
});
