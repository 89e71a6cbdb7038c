import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LogTail, isRunning, terminate, trackChild } from './child';

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 10_000;

/** Variables a service must only get from `opts.env`, never inherit from the shell that runs the tests. */
const PRIVATE_ENV_PREFIXES = ['APP_', 'NATS_URL', 'BROKER_', 'PROXY_'];

export interface ServiceOptions {
  /** Shown as the `[name] ` log prefix and in errors. */
  name: string;
  /** A .js file run with `node`. */
  script: string;
  /** Added to this process's environment (minus APP_*, NATS_URL*, BROKER_*, PROXY_*). */
  env: Record<string, string>;
  /** Polled every 100 ms until it answers 200; without it the service counts as ready once spawned. */
  healthUrl?: string;
  /** Echo the service's output to stdout as `[name] ...`. */
  log?: boolean;
  /** How long to wait for `healthUrl`; 30 s by default. */
  readyTimeoutMs?: number;
}

/** A running Node service (one of the apps) started from its built script. */
export interface ServiceHandle {
  readonly name: string;
  /** The pid of the current process; it changes on restart(). */
  readonly pid: number;
  /** SIGTERM and wait for the exit (SIGKILL after 10 s). */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Stops the service if it runs, starts it again with the same options and waits until it is ready. */
  restart(): Promise<void>;
  /** The last ~200 lines of its stdout and stderr (tests print them on failure). */
  recentLogs(): string;
}

/**
 * Runs `node <script>` with a clean environment and waits until `healthUrl` answers 200. Rejects with the
 * service's recent output when it exits first or is not ready in time (and then leaves no process behind).
 */
export async function startService(opts: ServiceOptions): Promise<ServiceHandle> {
  if (!existsSync(opts.script)) {
    throw new Error(`${opts.name}: ${opts.script} does not exist (run "npm run build" first)`);
  }
  const service = new Service(opts);
  await service.launch();
  return service;
}

/** `base` without the variables a service must not inherit, plus `extra`. */
export function serviceEnv(extra: Record<string, string>, base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !PRIVATE_ENV_PREFIXES.some((prefix) => key.startsWith(prefix))) env[key] = value;
  }
  return { ...env, ...extra };
}

class Service implements ServiceHandle {
  readonly name: string;
  private readonly logs: LogTail;
  private child: ChildProcess | undefined;

  constructor(private readonly opts: ServiceOptions) {
    this.name = opts.name;
    // One tail for the handle's whole life, so recentLogs() after a restart still shows the crash.
    this.logs = new LogTail(`[${opts.name}] `, opts.log ?? false);
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  recentLogs(): string {
    return this.logs.text();
  }

  async launch(): Promise<void> {
    const child = spawn(process.execPath, [this.opts.script], {
      env: serviceEnv(this.opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    this.logs.attach(child.stdout);
    this.logs.attach(child.stderr);
    this.child = child;
    try {
      await this.waitReady(child);
    } catch (err) {
      await terminate(child, 'SIGKILL');
      throw err;
    }
  }

  async stop(): Promise<void> {
    if (this.child) await terminate(this.child, 'SIGTERM', STOP_GRACE_MS);
  }

  async kill(): Promise<void> {
    if (this.child) await terminate(this.child, 'SIGKILL');
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const { healthUrl, name } = this.opts;
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    if (!healthUrl) return;
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      if (spawnError) throw new Error(`${name}: cannot start: ${spawnError.message}`);
      if (!isRunning(child)) {
        await closed(child);
        throw new Error(`${name} exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready:\n${this.recentLogs()}`);
      }
      try {
        const res = await fetch(healthUrl, { signal: AbortSignal.timeout(2_000) });
        await res.body?.cancel();
        if (res.status === 200) return;
        lastProblem = `${healthUrl} answered ${res.status}`;
      } catch (err) {
        lastProblem = `${healthUrl}: ${err instanceof Error ? err.message : String(err)}`;
      }
      await sleep(POLL_INTERVAL_MS);
    }
    throw new Error(`${name} was not ready in time (${lastProblem}):\n${this.recentLogs()}`);
  }
}

/** Resolves once the child's output streams are drained, so its last words are in the log tail. */
function closed(child: ChildProcess): Promise<void> {
  if (child.stdout?.readableEnded !== false && child.stderr?.readableEnded !== false) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('close', () => resolve());
    setTimeout(resolve, 1_000).unref();
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
