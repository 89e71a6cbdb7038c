/** Internal: child-process bookkeeping shared by the NATS server and service handles. */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Registers a child to be SIGKILLed when this process exits for any reason that runs 'exit' handlers
 * (normal end, process.exit, an uncaught exception). 'exit' handlers must be synchronous, and kill() is.
 */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) {
        try {
          c.kill('SIGKILL');
        } catch {
          // already gone
        }
      }
    });
  }
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function waitForExit(child: ChildProcess): Promise<void> {
  if (!isRunning(child)) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Sends `signal` and waits for the exit; escalates to SIGKILL when the child ignores it for `graceMs`. */
export async function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs = 10_000): Promise<void> {
  if (!isRunning(child)) return;
  const exited = waitForExit(child);
  child.kill(signal);
  if (signal === 'SIGKILL') return exited;
  let timer: NodeJS.Timeout | undefined;
  const escalate = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(exited);
    }, graceMs);
  });
  try {
    await Promise.race([exited, escalate]);
  } finally {
    clearTimeout(timer);
  }
}

/** Keeps the last `max` lines a child wrote, optionally echoing them to our stdout behind a prefix. */
export class LogTail {
  private readonly lines: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();

  constructor(
    private readonly prefix: string,
    private readonly echo: boolean,
    private readonly max = 200,
  ) {}

  attach(stream: Readable | null): void {
    if (!stream) return;
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.add(line);
    });
    stream.on('end', () => {
      if (partial) this.add(partial);
      partial = '';
    });
  }

  /** Calls `listener` for every later line; returns the unsubscribe function. */
  onLine(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  text(): string {
    return this.lines.join('\n');
  }

  private add(raw: string): void {
    const line = raw.replace(/\r$/, '');
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
    if (this.echo) process.stdout.write(`${this.prefix}${line}\n`);
    for (const listener of this.listeners) listener(line);
  }
}

/**
 * Resolves with the first value `match` returns for a line `child` writes from now on (`match` may keep
 * state across lines and answer only once it saw all it needs; what it throws rejects). Rejects when the child exits first or when
 * `timeoutMs` pass (then SIGKILLs it), with this launch's output; `what` names the child in those errors.
 */
export function awaitLine<T>(
  child: ChildProcess,
  logs: LogTail,
  match: (line: string) => T | undefined,
  opts: { what: string; timeoutMs: number },
): Promise<T> {
  const lines: string[] = [];
  return new Promise<T>((resolve, reject) => {
    const output = (): string => lines.slice(-200).join('\n');
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      unsubscribe();
      child.off('close', onClose);
      child.off('error', onError);
      settle();
    };
    const unsubscribe = logs.onLine((line) => {
      lines.push(line);
      let value: T | undefined;
      try {
        value = match(line);
      } catch (err) {
        finish(() => reject(err));
        return;
      }
      if (value !== undefined) finish(() => resolve(value));
    });
    // 'close' rather than 'exit': by then all of the child's output has been read.
    const onClose = (code: number | null, signal: string | null): void =>
      finish(() => reject(new Error(`${opts.what} exited (${signal ?? `code ${code}`}) before it was ready:\n${output()}`)));
    const onError = (err: Error): void => finish(() => reject(new Error(`${opts.what}: cannot start: ${err.message}`)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() => reject(new Error(`${opts.what} was not ready after ${opts.timeoutMs} ms:\n${output()}`)));
    }, opts.timeoutMs);
    child.once('close', onClose);
    child.once('error', onError);
  });
}

/** Whether a start failed because its address was taken ("EADDRINUSE", "address already in use"). */
export function isAddressInUse(err: unknown): boolean {
  return /EADDRINUSE|address already in use/i.test(err instanceof Error ? err.message : String(err));
}
