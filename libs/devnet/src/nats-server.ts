import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LogTail, isRunning, terminate, trackChild } from './child';
import { freePort } from './free-port';

/** What to run when no nats-server is installed (Debian/Ubuntu ship 2.9.10). */
export const NATS_INSTALL_COMMAND = 'apt-get update && apt-get install -y nats-server';

/**
 * 32 MiB: a message carries a sealed 10 MB body (base64 grows it by a third) plus signature and envelope.
 * nats-server 2.9.10 accepts it and logs a warning that payloads over 8 MB are "generally discouraged".
 */
export const NATS_MAX_PAYLOAD = 32 * 1024 * 1024;

/**
 * JetStream's `max_file_store` of dev servers. nats-server reserves every stream's byte limit against it
 * (a reservation, not disk space), so it must hold the brokers' default limits (8.6 GiB, libs/nats
 * storage-settings.ts) with room to spare for the streams a test makes of its own.
 */
export const DEV_MAX_FILE_STORE = 16 * 2 ** 30;

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
const PORT_ATTEMPTS = 3;

export interface NatsServerOptions {
  /** Port on 127.0.0.1; a free one by default. */
  port?: number;
  /** JetStream store directory; a fresh temporary one (removed on stop) by default. */
  storeDir?: string;
  /** Echo the server's log lines to stdout as `[nats] ...`. */
  log?: boolean;
  /** JetStream's `max_file_store` in bytes (default {@link DEV_MAX_FILE_STORE}); a test of a full store passes a small one. */
  maxFileStore?: number;
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
}

/**
 * Finds the nats-server binary: `$NATS_SERVER_BIN`, else the first executable `candidates` entry, else
 * `nats-server` on PATH. Throws an error naming the install command when there is none.
 */
export function resolveNatsServerBinary(
  env: NodeJS.ProcessEnv = process.env,
  candidates: readonly string[] = ['/usr/sbin/nats-server'],
): string {
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
  throw new Error(
    `nats-server not found (looked at $NATS_SERVER_BIN, ${[...candidates, 'PATH'].join(', ')}). ` +
      `Install it with: ${NATS_INSTALL_COMMAND}`,
  );
}

/**
 * Starts a single nats-server with JetStream (file storage) on 127.0.0.1 and resolves once it logged
 * "Server is ready". Rejects with the server's output when it exits first or is not ready within 20 s.
 * The process is SIGKILLed if this process exits without stopping it.
 */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServerHandle> {
  const binary = resolveNatsServerBinary();
  const workDir = mkdtempSync(join(tmpdir(), 'beamline-nats-'));
  const storeDir = opts.storeDir ?? join(workDir, 'store');
  try {
    for (let attempt = 1; ; attempt++) {
      // A port from freePort() can be taken by someone else before the server binds it: pick another.
      const port = opts.port ?? (await freePort());
      const server = new NatsServerProcess({
        binary,
        configFile: join(workDir, 'nats.conf'),
        config: natsDevConfig(port, storeDir, opts.maxFileStore),
        port,
        storeDir,
        log: opts.log ?? false,
        logPrefix: '[nats] ',
        ownedDir: workDir,
      });
      try {
        await server.launch();
        return server;
      } catch (err) {
        const retry = opts.port === undefined && attempt < PORT_ATTEMPTS && isAddressInUse(err);
        if (!retry) throw err;
      }
    }
  } catch (err) {
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
}

/** Internal: whether a launch failed because a port was taken meanwhile (worth retrying on other ports). */
export function isAddressInUse(err: unknown): boolean {
  return /address already in use/i.test(String(err));
}

/** The configuration file the dev server runs with. */
export function natsDevConfig(port: number, storeDir: string, maxFileStore = DEV_MAX_FILE_STORE): string {
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
    '',
  ].join('\n');
}

/** Internal: how to run one nats-server process (shared by the single server and the cluster nodes). */
export interface NatsProcessSpec {
  binary: string;
  /** Written before every launch. */
  configFile: string;
  config: string;
  port: number;
  storeDir: string;
  log: boolean;
  /** e.g. `[nats] ` or `[nats-2] ` */
  logPrefix: string;
  /** Removed by stop() (a temporary directory this handle owns); none for cluster nodes. */
  ownedDir?: string;
}

/**
 * Internal: one nats-server child process. launch() resolves once it logged "Server is ready"; kill() is a
 * crash (SIGKILL); restart() keeps port and store; stop() is SIGTERM (and removes `ownedDir`).
 */
export class NatsServerProcess implements NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  private child: ChildProcess | undefined;
  private stopped = false;
  private readonly logs: LogTail;

  constructor(private readonly spec: NatsProcessSpec) {
    this.port = spec.port;
    this.storeDir = spec.storeDir;
    this.url = `nats://127.0.0.1:${spec.port}`;
    // One tail for the handle's whole life, so recentLogs() after a restart still shows the crash.
    this.logs = new LogTail(spec.logPrefix, spec.log);
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

  async launch(): Promise<void> {
    const { binary, configFile, config } = this.spec;
    writeFileSync(configFile, config);
    const logs = this.logs;
    const lines: string[] = []; // this launch's output, for the error message
    const collect = logs.onLine((line) => lines.push(line));
    const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    trackChild(child);
    logs.attach(child.stdout);
    logs.attach(child.stderr);
    this.child = child;
    const output = (): string => lines.slice(-200).join('\n');
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error): void => {
        clearTimeout(timer);
        unsubscribe();
        collect();
        child.off('close', onClose);
        child.off('error', onError);
        if (err) reject(err);
        else resolve();
      };
      const unsubscribe = logs.onLine((line) => {
        if (line.includes('Server is ready')) done();
      });
      // 'close' rather than 'exit': by then all of the server's output has been read.
      const onClose = (code: number | null, signal: string | null): void =>
        done(new Error(`nats-server exited (${signal ?? `code ${code}`}) before it was ready:\n${output()}`));
      const onError = (err: Error): void => done(new Error(`cannot run ${binary}: ${err.message}`));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        done(new Error(`nats-server was not ready after ${READY_TIMEOUT_MS} ms:\n${output()}`));
      }, READY_TIMEOUT_MS);
      child.once('close', onClose);
      child.once('error', onError);
    });
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
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
