/** Where a command writes; tests capture it. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** One `beamline <name>` subcommand. Each lives in its own file under commands/ and is listed in commands/index.ts. */
export interface Command {
  name: string;
  /** One line for `beamline --help`. */
  summary: string;
  /** The full text for `beamline <name> --help`. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code (2 = usage error). */
  run(args: string[], io: CliIo): Promise<number>;
}

export function wantsHelp(args: string[]): boolean {
  return args.includes('--help') || args.includes('-h');
}
