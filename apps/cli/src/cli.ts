import type { CliIo, Command } from './command';
import { wantsHelp } from './command';
import { commands as allCommands } from './commands';
import { didYouMean } from './suggest';
import { packageVersion } from './version';

/** The process's own stdout and stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export function usage(commands: readonly Command[] = allCommands): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: beamline <command> [options]',
    '       beamline --version',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "beamline <command> --help" for a command\'s options.',
    '',
  ].join('\n');
}

/** Runs `beamline <argv>` and resolves to the exit code: 0 ok, 2 usage error, 1 failure. */
export async function runCli(argv: string[], io: CliIo = processIo, commands: readonly Command[] = allCommands): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(usage(commands));
    return 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.out(`beamline ${packageVersion()}\n`);
    return 0;
  }
  if (name === 'help' || (name.startsWith('-') && wantsHelp([name]))) {
    const topic = commands.find((c) => c.name === rest[0]);
    if (topic) return runCommand(topic, ['--help'], io);
    io.out(usage(commands));
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    const what = name.startsWith('-') ? 'option' : 'command';
    io.err(
      `beamline: unknown ${what} "${name}"${didYouMean(
        name,
        commands.map((c) => c.name),
      )}\nRun "beamline --help" for the commands.\n`,
    );
    return 2;
  }
  return runCommand(command, rest, io);
}

async function runCommand(command: Command, args: string[], io: CliIo): Promise<number> {
  try {
    return await command.run(args, io);
  } catch (err) {
    io.err(`beamline ${command.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
