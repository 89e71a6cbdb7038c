/** Beamline's version and the package root (where package.json is: above the source tree and above dist/). */
import { existsSync } from 'node:fs';
import { beamlineVersion } from '@beamline/http';
import { dirname, join } from 'node:path';

/** The same version the services report (libs/http reads it once). */
export function packageVersion(): string {
  return beamlineVersion();
}

/** The repository (or installed package) root: where package.json is, and where the demo writes `.beamline/`. */
export function packageRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}
