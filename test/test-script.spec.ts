/**
 * `npm test` (scripts/test.sh) with stand-in build and jest commands: every jest run happens even when an
 * earlier one fails, the exit status says whether any failed, and a failed build stops everything.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '..', 'scripts', 'test.sh');
const UNIT = ['libs apps'];
const MEDIUM = ['test/medium'];
const E2E = [
  'test --testPathIgnorePatterns test/medium hostile-input test/cluster test/large- test/storage-full',
  'test/large- test/storage-full',
  'test/cluster',
  'test/hostile-input',
];
const RUNS = [...UNIT, ...MEDIUM, ...E2E];

let dir: string;
let calls: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'test-script-spec-'));
  calls = join(dir, 'calls');
  // Records its arguments; fails with 3 when they are those named in FAIL_RUNS (one run per line).
  writeFileSync(
    join(dir, 'fake-jest'),
    `#!/usr/bin/env bash\necho "$*" >> "$CALLS"\nif grep -qxF -- "$*" <<< "$FAIL_RUNS"; then echo "fake jest: failing $*"; exit 3; fi\n`,
  );
  writeFileSync(join(dir, 'fake-build'), `#!/usr/bin/env bash\necho build >> "$CALLS"\nexit "$BUILD_EXIT"\n`);
  chmodSync(join(dir, 'fake-jest'), 0o755);
  chmodSync(join(dir, 'fake-build'), 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function npmTest(opts: { failRuns?: string[]; buildExit?: number; args?: string[] } = {}): {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[];
} {
  writeFileSync(calls, '');
  const run = spawnSync('bash', [SCRIPT, ...(opts.args ?? [])], {
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      BEAMLINE_TEST_BUILD: join(dir, 'fake-build'),
      BEAMLINE_TEST_JEST: join(dir, 'fake-jest'),
      CALLS: calls,
      FAIL_RUNS: (opts.failRuns ?? []).join('\n'),
      BUILD_EXIT: String(opts.buildExit ?? 0),
    },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr, calls: readFileSync(calls, 'utf8').split('\n').filter(Boolean) };
}

const summaryOf = (stdout: string): string[] => stdout.slice(stdout.indexOf('npm test summary:')).split('\n').slice(1).filter(Boolean);

describe('npm test (scripts/test.sh)', () => {
  it('builds, runs every jest run and exits 0 when all pass, with a summary line per run', () => {
    const run = npmTest();
    expect(run.calls).toEqual(['build', ...RUNS]);
    expect(run.status).toBe(0);
    const summary = summaryOf(run.stdout);
    expect(summary).toHaveLength(RUNS.length);
    summary.forEach((line, i) => expect(line).toMatch(new RegExp(`^  passed +\\d+s  jest ${RUNS[i]}$`)));
  });

  it('still runs the later jest runs when the first fails, and exits non-zero', () => {
    const run = npmTest({ failRuns: [RUNS[0]] });
    expect(run.calls).toEqual(['build', ...RUNS]);
    expect(run.status).toBe(1);
    const summary = summaryOf(run.stdout);
    expect(summary[0]).toMatch(new RegExp(`^  FAILED \\(exit 3\\) +\\d+s  jest ${RUNS[0]}$`));
    expect(summary.slice(1).every((line) => /^ {2}passed /.test(line))).toBe(true);
  });

  it('exits non-zero when only a middle run fails', () => {
    const run = npmTest({ failRuns: [RUNS[1]] });
    expect(run.calls).toEqual(['build', ...RUNS]);
    expect(run.status).toBe(1);
    expect(summaryOf(run.stdout).map((line) => line.trim().split(' ')[0])).toEqual(RUNS.map((_, i) => (i === 1 ? 'FAILED' : 'passed')));
  });

  it('stops at a failed build with its exit status, running no tests', () => {
    const run = npmTest({ buildExit: 2 });
    expect(run.calls).toEqual(['build']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/the build failed \(exit 2\); no tests ran/);
  });

  it.each([
    ['unit', UNIT],
    ['medium', MEDIUM],
  ])('runs only the %s tier, without a build', (tier, runs) => {
    const run = npmTest({ args: [tier] });
    expect(run.calls).toEqual(runs);
    expect(run.status).toBe(0);
  });

  it('builds for the e2e tier and runs only its runs', () => {
    const run = npmTest({ args: ['e2e'] });
    expect(run.calls).toEqual(['build', ...E2E]);
    expect(run.status).toBe(0);
  });

  it('refuses anything but a tier instead of silently dropping it', () => {
    for (const args of [['libs/devnet'], ['unit', 'medium']]) {
      const run = npmTest({ args });
      expect(run.status).toBe(2);
      expect(run.calls).toEqual([]);
      expect(run.stderr).toMatch(/takes one optional tier, unit, medium or e2e .*npx jest <paths>/);
    }
  });
});
