import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LogTail, awaitLine, isAddressInUse, isRunning, terminate, trackChild } from './child';
import { natsSecurityConfig, natsServerEnv, type DevNatsSecurity } from './nats-auth';

/** What to run when no nats-server is installed (Debian/Ubuntu ship 2.9.10). */
export const NATS_INSTALL_COMMAND = 'apt-get update && apt-get install -y nats-server';

/**
 * 32 MiB: a message carries a sealed 10 MB body (base64 grows it by a third) plus signature and envelope.
 * nats-server 2.9.10 accepts it and logs a warning that payloads over 8 MB are "generally discouraged".
 */
export const NATS_MAX_PAYLOAD = 32 * 1024 * 1024;

/**
 * JetStream's `max_file_store` of dev servers. nats-server reserves every stream's byte limit against it
 * (a reservation, not disk space), so it must hold the brokers' default limits (10.6 GiB, libs/nats
 * storage-settings.ts) with room to spare for the streams a test makes of its own.
 */
export const DEV_MAX_FILE_STORE = 16 * 2 ** 30;

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

/** nats-server's own notation, in a `listen` setting, for "any port the OS assigns". */
export const ANY_PORT = -1;

export interface NatsServerOptions {
  /** Port on 127.0.0.1; by default the OS assigns one as the server binds, and `port` says which. */
  port?: number;
  /** JetStream store directory; a fresh temporary one (removed on stop) by default. */
  storeDir?: string;
  /** Echo the server's log lines to stdout as `[nats] ...`. */
  log?: boolean;
  /** JetStream's `max_file_store` in bytes (default {@link DEV_MAX_FILE_STORE}); a test of a full store passes a small one. */
  maxFileStore?: number;
  /**
   * TLS (client certificates required) and the logins and permissions of infra/nats/auth.conf
   * (`makeDevNatsSecurity`); none by default: anyone on 127.0.0.1 may do anything.
   */
  security?: DevNatsSecurity;
}

/** A running nats-server child process with JetStream enabled. */
export interface NatsServerHandle {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** The pid of the current process; it changes on restart(). */
  readonly pid: number;
  /** SIGTERM, wait for the exit, then remove the temporary directories this handle created. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit (a crash); the store stays for restart(). */
  kill(): Promise<void>;
  /** Stops the server if it runs, starts it again on the same port and store, and waits until it is ready. */
  restart(): Promise<void>;
  /** The server's last log lines (e.g. permission violations it reported). */
  recentLogs(): string;
}

/**
 * Finds the nats-server binary: `$NATS_SERVER_BIN`, else the first executable `candidates` entry, else
 * `nats-server` on PATH. Throws an error naming the install command when there is none.
 */
export function resolveNatsServerBinary(env: NodeJS.ProcessEnv = process.env, candidates: readonly string[] = ['/usr/sbin/nats-server']): string {
  const fromEnv = env.NATS_SERVER_BIN;
  if (fromEnv) {
    if (isExecutableFile(fromEnv)) return fromEnv;
    throw new Error(`NATS_SERVER_BIN=${fromEnv} is not an executable file`);
  }
  for (const candidate of candidates) {
    if (isExecutableFile(candidate)) return candidate;
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'nats-server');
    if (dir && isExecutableFile(candidate)) return candidate;
  }
  throw new Error(`nats-server not found (looked at $NATS_SERVER_BIN, ${[...candidates, 'PATH'].join(', ')}). ` + `Install it with: ${NATS_INSTALL_COMMAND}`);
}

/**
 * Starts a single nats-server with JetStream (file storage) on 127.0.0.1 and resolves once it is ready and
 * has logged the port it listens on. Rejects with the server's output when it exits first or is not ready
 * within 20 s. The process is SIGKILLed if this process exits without stopping it.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const port = opts.port || ANY_PORT;
  if (port !== ANY_PORT && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new Error(`startNatsServer: port must be an integer from 1 to 65535 (or 0 for any), got ${opts.port}`);
  }
  const binary = resolveNatsServerBinary();
  const workDir = mkdtempSync(join(tmpdir(), 'beamline-nats-'));
  const storeDir = opts.storeDir ?? join(workDir, 'store');
  const server = new NatsServerProcess({
    binary,
    configFile: join(workDir, 'nats.conf'),
    config: (ports) => natsDevConfig(ports.client, storeDir, opts.maxFileStore, opts.security),
    env: opts.security ? natsServerEnv(opts.security) : {},
    ports: { client: port },
    storeDir,
    log: opts.log ?? false,
    logPrefix: '[nats] ',
    what: 'nats-server',
    ownedDir: workDir,
  });
  try {
    await server.launch();
    return server;
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
}

/** The configuration file the dev server runs with; `port` may be `ANY_PORT`. */
export function natsDevConfig(port: number, storeDir: string, maxFileStore = DEV_MAX_FILE_STORE, security?: DevNatsSecurity): string {
  return [
    '# Written by @beamline/devnet: a throwaway single-node server for development and tests.',
    `listen: 127.0.0.1:${port}`,
    `# ${NATS_MAX_PAYLOAD / 1024 / 1024} MiB: sealed 10 MB bodies. nats-server warns above 8 MB; expected.`,
    `max_payload: ${NATS_MAX_PAYLOAD}`,
    // As in infra/nats: a client busy for a moment on a loaded machine is not cut off as a slow consumer.
    'write_deadline: "10s"',
    'jetstream {',
    `  store_dir: ${JSON.stringify(storeDir)}`,
    `  max_file_store: ${maxFileStore}`,
    '}',
    ...(security ? [natsSecurityConfig(security)] : []),
    '',
  ].join('\n');
}

/** Internal: the ports of one launch; `ANY_PORT` asks the OS. `cluster` only for a cluster node. */
export interface NatsPorts {
  client: number;
  cluster?: number;
}

/** Internal: how to run one nats-server process (shared by the single server and the cluster nodes). */
export interface NatsProcessSpec {
  binary: string;
  /** Written before every launch. */
  configFile: string;
  /** The configuration of a launch that asks for `ports`. */
  config: (ports: NatsPorts) => string;
  /** Added to the server's environment (the passwords auth.conf refers to). */
  env?: Record<string, string>;
  /** What the first launch asks for; every later one asks for the ports the first one got. */
  ports: NatsPorts;
  storeDir: string;
  log: boolean;
  /** e.g. `[nats] ` or `[nats-2] ` */
  logPrefix: string;
  /** Names the process in errors, e.g. `nats-server` or `nats-server beamline-nats-2`. */
  what: string;
  /** Removed by stop() (a temporary directory this handle owns); none for cluster nodes. */
  ownedDir?: string;
}

/**
 * Internal: one nats-server child process. launch() resolves once it logged "Server is ready" and the ports
 * it listens on; kill() is a crash (SIGKILL); restart() keeps ports and store; stop() is SIGTERM (and
 * removes `ownedDir`).
 */
export class NatsServerProcess implements NatsServerHandle {
  readonly storeDir: string;
  private child: ChildProcess | undefined;
  private stopped = false;
  /** What the first launch got, from the server's log. */
  private bound: NatsPorts | undefined;
  private readonly logs: LogTail;

  constructor(private readonly spec: NatsProcessSpec) {
    this.storeDir = spec.storeDir;
    // One tail for the handle's whole life, so recentLogs() after a restart still shows the crash.
    this.logs = new LogTail(spec.logPrefix, spec.log);
  }

  get port(): number {
    return this.boundPorts().client;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Whether a launch has succeeded, so the ports are known. */
  get launched(): boolean {
    return this.bound !== undefined;
  }

  get pid(): number {
    return this.child?.pid ?? -1;
  }

  get running(): boolean {
    return this.child !== undefined && isRunning(this.child);
  }

  recentLogs(): string {
    return this.logs.text();
  }

  /**
   * A relaunch asks for the ports the server had, since clients and the other cluster nodes know them. They
   * were ours until a moment ago, so another process takes one only by chance in that moment; the relaunch
   * then fails saying so rather than moving the server where nobody would find it.
   */
  async launch(): Promise<void> {
    const { binary, configFile, what } = this.spec;
    const wanted = this.bound ?? this.spec.ports;
    writeFileSync(configFile, this.spec.config(wanted));
    const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.spec.env } });
    trackChild(child);
    this.logs.attach(child.stdout);
    this.logs.attach(child.stderr);
    this.child = child;
    let got: NatsPorts;
    try {
      got = await awaitLine(child, this.logs, readyWithPorts(wanted.cluster !== undefined), { what, timeoutMs: READY_TIMEOUT_MS });
    } catch (err) {
      await terminate(child, 'SIGKILL');
      const asked = [wanted.client, wanted.cluster].filter((p): p is number => p !== undefined && p !== ANY_PORT);
      if (asked.length > 0 && isAddressInUse(err)) throw new Error(this.portTakenMessage(asked, err as Error), { cause: err });
      throw err;
    }
    for (const key of ['client', 'cluster'] as const) {
      const asked = wanted[key];
      if (asked !== undefined && asked !== ANY_PORT && got[key] !== asked) {
        await terminate(child, 'SIGKILL');
        throw new Error(`${what} was asked for ${key} port ${asked} but listens on ${got[key]}`);
      }
    }
    this.bound = got;
  }

  async stop(): Promise<void> {
    if (this.spec.ownedDir) {
      if (this.stopped) return;
      this.stopped = true;
    }
    if (this.child) await terminate(this.child, 'SIGTERM', STOP_GRACE_MS);
    if (this.spec.ownedDir) rmSync(this.spec.ownedDir, { recursive: true, force: true });
  }

  async kill(): Promise<void> {
    if (this.child) await terminate(this.child, 'SIGKILL');
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('nats-server handle was stopped; start a new one');
    if (this.child && isRunning(this.child)) await terminate(this.child, 'SIGTERM', STOP_GRACE_MS);
    await this.launch();
  }

  protected boundPorts(): NatsPorts {
    if (!this.bound) throw new Error(`${this.spec.what} has not started yet`);
    return this.bound;
  }

  private portTakenMessage(asked: number[], err: Error): string {
    const where = asked.map((p) => `127.0.0.1:${p}`).join(' or ');
    return this.bound
      ? `${this.spec.what}: cannot restart on ${where}, the ports it had: another process took one while it was down ` +
          `(it does not move, since its clients and peers know these ports).\n${err.message}`
      : `${this.spec.what}: ${where} is in use by another process.\n${err.message}`;
  }
}

/**
 * Matches nats-server's log until it is ready and has said where it listens: "Listening for client
 * connections on 127.0.0.1:<port>", "Server is ready", and for a cluster node "Listening for route
 * connections on 127.0.0.1:<port>" (which comes after "Server is ready").
 */
function readyWithPorts(clustered: boolean): (line: string) => NatsPorts | undefined {
  const seen: { client?: number; cluster?: number; ready?: boolean } = {};
  return (line) => {
    const client = /Listening for client connections on \S+:(\d+)$/.exec(line);
    if (client) seen.client = Number(client[1]);
    const route = /Listening for route connections on \S+:(\d+)$/.exec(line);
    if (route) seen.cluster = Number(route[1]);
    if (line.includes('Server is ready')) seen.ready = true;
    if (!seen.ready || seen.client === undefined || (clustered && seen.cluster === undefined)) return undefined;
    return clustered ? { client: seen.client, cluster: seen.cluster } : { client: seen.client };
  };
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
