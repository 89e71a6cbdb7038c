/** The `beamline` command (bin/beamline requires the built copy of this file). */
import { runCli } from './cli';
import { exitQuietlyOnClosedPipe } from './safe-output';

exitQuietlyOnClosedPipe();
void runCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Let stdout drain and exit naturally; should a stray handle keep the loop alive, exit anyway.
  setTimeout(() => process.exit(code), 2_000).unref();
});
