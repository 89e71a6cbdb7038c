import type { CliIo, Command } from './command';
import { wantsHelp } from './command';
import { commands as allCommands } from './commands';

/** The process's own stdout and stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export function usage(commands: readonly Command[] = allCommands): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: beamline <command> [options]',
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
  if (name === 'help' || (name.startsWith('-') && wantsHelp([name]))) {
    const topic = commands.find((c) => c.name === rest[0]);
    io.out(topic ? topic.usage : usage(commands));
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`beamline: unknown command "${name}"\n\n${usage(commands)}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    io.err(`beamline ${name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}
