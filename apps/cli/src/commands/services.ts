/**
 * `beamline proxy`, `beamline broker-api`, `beamline broker-store`: start a component. They run the very code
 * of `node dist/apps/<component>/src/main.js` (loaded from the build next to this CLI, with the arguments after
 * the command name), so `--help`, `--print-config`, configuration errors (exit 2) and the logs are the
 * component's own.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CliIo, Command } from '../command';

type Component = 'proxy' | 'broker-api' | 'broker-store';

/** `dist/apps/<component>/src/main.js`, beside this CLI's own build (dist/apps/cli/src/commands/). */
export function componentMain(component: Component, from: string = __dirname): string {
  return resolve(from, '..', '..', '..', component, 'src', 'main.js');
}

function serviceCommand(component: Component, summary: string): Command {
  const usage = `Usage: beamline ${component} [--print-config]

${summary}. Configured by environment variables; "beamline ${component} --help" lists every one with its
default and meaning (the same as "node dist/apps/${component}/src/main.js --help").
`;
  return {
    name: component,
    summary,
    usage,
    async run(args: string[], io: CliIo): Promise<number> {
      const main = componentMain(component);
      if (!existsSync(main)) {
        io.err(`beamline ${component}: ${main} is missing; run "npm run build" first\n`);
        return 1;
      }
      // The component reads its arguments from process.argv, as when started with node directly.
      process.argv = [process.argv[0], main, ...args];
      await import(join(main));
      // The component runs until it stops (its own signal handling ends the process); never resolve.
      return new Promise<number>(() => undefined);
    },
  };
}

export const proxyCommand = serviceCommand('proxy', "start a site's proxy (the gateway its apps talk to)");
export const brokerApiCommand = serviceCommand('broker-api', "start a broker-api replica (the broker's HTTP frontend)");
export const brokerStoreCommand = serviceCommand('broker-store', 'start a broker-store replica (the projector of the event log)');
