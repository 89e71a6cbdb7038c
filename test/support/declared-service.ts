/**
 * Runs a process exactly as a deployment file declares it (an argv and an environment, nothing inherited but
 * PATH), keeps its recent output, and waits until it is ready: a line it prints, or an HTTP health answer.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface DeclaredServiceOptions {
  name: string;
  argv: string[];
  env: Record<string, string>;
  /** Echo the output as `[name] ...`. */
  log?: boolean;
}

export class DeclaredService {
  private readonly output: string[] = [];
  private readonly listeners = new Set<(line: string) => void>();
  readonly child: ChildProcess;

  constructor(readonly opts: DeclaredServiceOptions) {
    const [command, ...args] = opts.argv;
    this.child = spawn(command, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.add(line);
      });
    }
  }

  /** Resolves with the first match of `pattern` in a line printed from now on; rejects on exit or after `timeoutMs`. */
  waitForLine(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const seen = this.output.map((line) => pattern.exec(line)).find((m) => m !== null);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.listeners.delete(onLine);
        this.child.off('exit', onExit);
        settle();
      };
      const onLine = (line: string): void => {
        const m = pattern.exec(line);
        if (m) done(() => resolve(m));
      };
      const onExit = (code: number | null): void => done(() => reject(new Error(`${this.opts.name} exited (${code}) before ${pattern}:\n${this.logs()}`)));
      const timer = setTimeout(() => done(() => reject(new Error(`${this.opts.name}: no ${pattern} within ${timeoutMs} ms:\n${this.logs()}`))), timeoutMs);
      this.listeners.add(onLine);
      this.child.once('exit', onExit);
    });
  }

  /**
   * The URL from the `listening on http://…` line every Beamline HTTP app prints (plain, or the `msg` of a JSON
   * log line), once `healthPath` answers 200.
   */
  async httpReady(healthPath = '/v1/health', timeoutMs = 60_000): Promise<string> {
    const url = (await this.waitForLine(/^(?:listening on |\{.*"msg":"listening on )(http:\/\/[^\s"]+)/, timeoutMs))[1];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await fetch(url + healthPath).then(
        (r) => r.status,
        () => 0,
      );
      if (status === 200) return url;
      if (Date.now() > deadline) throw new Error(`${this.opts.name}: ${healthPath} answered ${status}:\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  logs(): string {
    return this.output.slice(-100).join('\n');
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  private add(line: string): void {
    this.output.push(line);
    if (this.output.length > 500) this.output.splice(0, 100);
    if (this.opts.log) process.stdout.write(`[${this.opts.name}] ${line}\n`);
    for (const listener of this.listeners) listener(line);
  }
}
