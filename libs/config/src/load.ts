/**
 * Loading an app's configuration once, at boot: every bad variable is reported at once, by name, without a
 * stack trace, and the process exits 2 (a configuration error, not a crash).
 */
import type { z } from 'zod';
import type { EnvSchema } from './setting';
import { effectiveConfig, settingsHelp, type ComponentDoc } from './startup';

export type { EnvSchema };

/** Every bad variable of a configuration, one line each (`NAME: reason`). */
export class ConfigError extends Error {
  constructor(
    readonly component: string,
    readonly problems: string[],
  ) {
    super(`${component}: bad configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The variables of `schema` parsed from `env`, or ConfigError naming each bad one. */
export function parseEnv<S extends EnvSchema>(component: string, schema: S, env: Readonly<Record<string, string | undefined>>): z.output<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  throw new ConfigError(
    component,
    result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(environment)'}: ${issue.message}`),
  );
}

/** Collects the problems of checks that involve several variables, then throws them all at once. */
export class ConfigProblems {
  private readonly problems: string[] = [];

  constructor(private readonly component: string) {}

  /** Runs `check`; a thrown message becomes one problem, prefixed with `variable` unless it names one. */
  check<T>(variable: string, check: () => T): T | undefined {
    try {
      return check();
    } catch (err) {
      const message = (err as Error).message;
      this.problems.push(/^[A-Z][A-Z0-9_]*(<\w+>)?[A-Z0-9_]*: /.test(message) ? message : `${variable}: ${message}`);
      return undefined;
    }
  }

  /** Throws ConfigError when any check failed, with `earlier` (a ConfigError from parseEnv) folded in. */
  throwIfAny(earlier?: ConfigError): void {
    const all = [...(earlier?.problems ?? []), ...this.problems];
    if (all.length > 0) throw new ConfigError(this.component, all);
  }
}

/**
 * parseEnv, plus `checks` of variables that only make sense together (a user and its password file, one of two
 * ways to give a secret), run on the raw environment so their problems are reported with every other one.
 */
export function parseEnvChecked<S extends EnvSchema>(
  component: string,
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
  checks: (problems: ConfigProblems) => void,
): z.output<S> {
  const problems = new ConfigProblems(component);
  checks(problems);
  let parsed: z.output<S> | undefined;
  try {
    parsed = parseEnv(component, schema, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.throwIfAny(err);
  }
  problems.throwIfAny();
  return parsed as z.output<S>;
}

/**
 * Loads with `load`; on ConfigError prints its lines to stderr and exits 2. Any other failure is a bug and
 * propagates. With `doc`, the process's arguments are the start command's: `--help` prints every variable and
 * exits 0, `--print-config` loads (a bad value still exits 2), prints the effective configuration with secrets
 * redacted and exits 0, anything else is a usage error (exit 2).
 */
export function loadOrExit<T>(load: () => T, doc?: ComponentDoc, argv: readonly string[] = process.argv.slice(2)): T {
  const action = doc ? startAction(doc, argv) : 'start';
  try {
    const config = load();
    if (action === 'print-config' && doc) {
      process.stdout.write(effectiveConfig(doc, process.env));
      process.exit(0);
    }
    return config;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}

/** What the start command's arguments ask for; `--help` and usage errors end the process here. */
function startAction(doc: ComponentDoc, argv: readonly string[]): 'start' | 'print-config' {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(settingsHelp(doc));
    process.exit(0);
  }
  const unknown = argv.find((a) => a !== '--print-config');
  if (unknown !== undefined) {
    process.stderr.write(`${doc.component}: unknown argument ${JSON.stringify(unknown)}; every setting is an environment variable (--help lists them)\n`);
    process.exit(2);
  }
  return argv.length > 0 ? 'print-config' : 'start';
}
