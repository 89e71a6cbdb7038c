/**
 * Preloaded into a service (`NODE_OPTIONS="--require dist/bench/cpu-profile-hook.js"`) to profile it under a
 * benchmark: profiling starts at once, and SIGWINCH (ignored by default, and not one of the signals Nest shuts down on) writes `<BEAMLINE_PROFILE_DIR>/<pid>.cpuprofile` (open it
 * in Chrome DevTools). `--cpu-prof` cannot do this: the services stop by re-raising SIGTERM, and a process
 * ended by a signal never writes its profile.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BEAMLINE_PROFILE_DIR ?? '.';
const session = new Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));
process.on('SIGWINCH', () => {
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    session.post('Profiler.start');
  });
});
