import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, existsSync } from 'node:fs';
import { LogTail, awaitLine, isAddressInUse, isRunning, terminate, trackChild } from './child';
import { parseListeningLine } from './listening-line';

const DEFAULT_READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 10_000;
/** Services in tests and the demo listen on loopback only. */
const HOST = '127.0.0.1';

/**
 * Variables a service must only get from `opts.env`, never inherit from the shell that runs the tests: where
 * NATS is and how to log in to it, the broker's session secret, apps and proxies, and the way out (a shell's
 * HTTP proxy would otherwise carry the proxies' loopback traffic).
 */
const PRIVATE_ENV_PREFIXES = [
  'APP_',
  'NATS_URL',
  'NATS_USER',
  'NATS_PASSWORD',
  'NATS_CREDS',
  'NATS_TLS_',
  'SESSION_SECRET',
  'BROKER_',
  'PROXY_',
  ...['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'NO_PROXY'].flatMap((name) => [name, name.toLowerCase()]),
  'TLS_CA_CERTIFICATES_DIR',
];

export interface ServiceOptions {
  /** Shown as the `[name] ` log prefix and in errors. */
  name: string;
  /** A .js file run with `node`. */
  script: string;
  /** Added to this process's environment (minus APP_*, NATS_URL*, NATS_USER*, NATS_PASSWORD*, NATS_CREDS*, NATS_TLS_*, SESSION_SECRET*, BROKER_*, PROXY_*). */
  env: Record<string, string>;
  /** Echo the service's output to stdout as `[name] ...`. */
  log?: boolean;
  /** Also append every line of its output to this file (all of it, unlike `recentLogs`). */
  logFile?: string;
  /** How long an HTTP service may take to listen and turn healthy; 30 s by default. */
  readyTimeoutMs?: number;
}

export interface HttpServiceOptions extends ServiceOptions {
  /**
   * The port on 127.0.0.1, passed as `BIND_ADDR` (so `env` must not set it). 0 by default: the OS picks a
   * free one as the service binds, and the service reports it (`listening on http://…`, see libs/http).
   */
  port?: number;
  /**
   * Polled on the reported address every 100 ms until it answers 200 (e.g. '/v1/health'). Without it the
   * service counts as ready once it listens.
   */
  healthPath?: string;
  /** The variable the address goes in: `BIND_ADDR` by default (broker-store's listener: `METRICS_ADDR`). */
  bindVariable?: string;
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

/** A service that serves HTTP; `url` and `port` stay the same across restart(). */
export interface HttpServiceHandle extends ServiceHandle {
  /** `http://127.0.0.1:<port>`, as the service reported it. */
  readonly url: string;
  readonly port: number;
}

/**
 * Runs `node <script>` with a clean environment; resolves once the process is spawned. For a service that
 * listens, use `startHttpService`.
 */
export async function startService(opts: ServiceOptions): Promise<ServiceHandle> {
  requireScript(opts);
  const service = new Service(opts);
  await service.launch();
  return service;
}

/**
 * Runs an HTTP service (`node <script>` with `BIND_ADDR=127.0.0.1:<port>`), waits for the line in which it
 * reports the address it listens on, then for `healthPath` to answer 200. Rejects with the service's recent
 * output when it exits first or is not ready in time (and then leaves no process behind).
 */
export async function startHttpService(opts: HttpServiceOptions): Promise<HttpServiceHandle> {
  requireScript(opts);
  const bindVariable = opts.bindVariable ?? 'BIND_ADDR';
  if (bindVariable in opts.env) {
    throw new Error(`${opts.name}: give the port as \`port\`, not ${bindVariable} in env (startHttpService sets ${bindVariable} itself)`);
  }
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${opts.name}: port must be an integer from 0 to 65535, got ${port}`);
  }
  const service = new HttpService(opts, port);
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

function requireScript(opts: ServiceOptions): void {
  if (!existsSync(opts.script)) {
    throw new Error(`${opts.name}: ${opts.script} does not exist (run "npm run build" first)`);
  }
}

class Service implements ServiceHandle {
  readonly name: string;
  protected readonly logs: LogTail;
  private child: ChildProcess | undefined;

  constructor(protected readonly opts: ServiceOptions) {
    this.name = opts.name;
    // One tail for the handle's whole life, so recentLogs() after a restart still shows the crash.
    this.logs = new LogTail(`[${opts.name}] `, opts.log ?? false);
    const file = opts.logFile;
    if (file !== undefined) this.logs.onLine((line) => appendFileSync(file, `${line}\n`));
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  recentLogs(): string {
    return this.logs.text();
  }

  async launch(): Promise<void> {
    const child = spawn(process.execPath, [this.opts.script], {
      env: serviceEnv(this.launchEnv()),
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

  protected launchEnv(): Record<string, string> {
    return this.opts.env;
  }

  protected async waitReady(child: ChildProcess): Promise<void> {
    try {
      await once(child, 'spawn');
    } catch (err) {
      throw new Error(`${this.name}: cannot start: ${(err as Error).message}`);
    }
  }
}

class HttpService extends Service implements HttpServiceHandle {
  /** Set by the first launch, from the service's own report. */
  private bound: { url: string; port: number } | undefined;

  constructor(
    private readonly http: HttpServiceOptions,
    private readonly requestedPort: number,
  ) {
    super(http);
  }

  get url(): string {
    return this.boundAddress().url;
  }

  get port(): number {
    return this.boundAddress().port;
  }

  /**
   * A restart asks for the port the service had, not for a new one: proxies, balancers and tests hold its
   * URL. The port was ours until a moment ago, so another process can take it only by chance in that
   * moment; if it does, the restart fails saying so (see waitReady) instead of moving the service somewhere
   * its clients would not find it.
   */
  protected override launchEnv(): Record<string, string> {
    return { ...this.opts.env, [this.http.bindVariable ?? 'BIND_ADDR']: `${HOST}:${this.bound?.port ?? this.requestedPort}` };
  }

  protected override async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + (this.opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS);
    const wanted = this.bound?.port ?? this.requestedPort;
    let reported: { url: string; port: number };
    try {
      reported = await awaitLine(
        child,
        this.logs,
        (line) => {
          const address = parseListeningLine(line);
          if (address && wanted !== 0 && address.port !== wanted) {
            throw new Error(`${this.name} was asked for port ${wanted} but reported ${address.url}`);
          }
          return address;
        },
        { what: this.name, timeoutMs: Math.max(0, deadline - Date.now()) },
      );
    } catch (err) {
      if (wanted !== 0 && isAddressInUse(err)) throw new Error(this.portTakenMessage(wanted, err as Error), { cause: err });
      throw err;
    }
    this.bound = { url: reported.url, port: reported.port };
    if (this.http.healthPath) await this.waitHealthy(child, `${reported.url}${this.http.healthPath}`, deadline);
  }

  private portTakenMessage(port: number, err: Error): string {
    return this.bound
      ? `${this.name}: cannot restart on ${HOST}:${port}, the port it had: another process took it while ${this.name} was down ` +
          `(it does not move to another port, since its clients know this URL).\n${err.message}`
      : `${this.name}: ${HOST}:${port} is in use by another process.\n${err.message}`;
  }

  private async waitHealthy(child: ChildProcess, healthUrl: string, deadline: number): Promise<void> {
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      if (!isRunning(child)) {
        await closed(child);
        throw new Error(`${this.name} exited (${child.signalCode ?? `code ${child.exitCode}`}) before it was ready:\n${this.recentLogs()}`);
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
    throw new Error(`${this.name} was not ready in time (${lastProblem}):\n${this.recentLogs()}`);
  }

  private boundAddress(): { url: string; port: number } {
    if (!this.bound) throw new Error(`${this.name} has not reported its address yet`);
    return this.bound;
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
