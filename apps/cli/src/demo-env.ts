/**
 * `.beamline/demo.env`: what `beamline demo` tells every other `beamline` command while it runs — where its NATS
 * is, its CA directory and root certificate, its proxies' keys and URLs. Commands read it when present, below
 * anything given explicitly (flags, then the environment), so the README's enrollment steps work against the
 * demo as written. `BEAMLINE_DEMO_ENV` names another file (tests point it elsewhere; empty disables it).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageRoot } from './version';

type Env = Readonly<Record<string, string | undefined>>;

/** Where the demo writes the file and commands read it; undefined when disabled (`BEAMLINE_DEMO_ENV=`). */
export function demoEnvFile(env: Env = process.env): string | undefined {
  const configured = env.BEAMLINE_DEMO_ENV;
  if (configured !== undefined) return configured === '' ? undefined : configured;
  return join(packageRoot(), '.beamline', 'demo.env');
}

/** `NAME=value` lines; `#` comments and blank lines skipped. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) vars[m[1]] = m[2].trim();
  }
  return vars;
}

/** The running demo's variables, or none. */
export function readDemoEnv(env: Env = process.env): Record<string, string> {
  const file = demoEnvFile(env);
  if (file === undefined || !existsSync(file)) return {};
  try {
    return parseEnvFile(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

/** The environment a command works with: the demo's variables, overridden by every non-empty process variable. */
export function cliEnv(env: Env = process.env): Record<string, string | undefined> {
  const explicit = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  return { ...readDemoEnv(env), ...explicit };
}

/** Writes the file (atomically, mode 0600: it names key files and passwords' files). */
export function writeDemoEnv(file: string, header: string, vars: Record<string, string>): void {
  mkdirSync(dirname(file), { recursive: true });
  const text = `${header
    .split('\n')
    .map((l) => `# ${l}`.trimEnd())
    .join('\n')}\n${Object.entries(vars)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
  writeFileSync(`${file}.tmp`, text, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export function removeDemoEnv(file: string): void {
  rmSync(file, { force: true });
}
