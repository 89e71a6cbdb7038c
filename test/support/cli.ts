/** `beamline …` run as an operator runs it: the built CLI in a child process, its stdout and stderr as bytes written. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { auditCopyState } from '@beamline/audit';
import { EVENTS_STREAM } from '@beamline/nats';

export const CLI = resolve(__dirname, '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export type AuditRun = CliRun;

/**
 * Runs `beamline <args>` without NATS_URL or ROOTCERT_FILE from the test's environment (unless `env` sets them),
 * and without a running demo's `.beamline/demo.env` (`BEAMLINE_DEMO_ENV` empty unless `env` names a file).
 */
export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((done) => {
    const e = { ...process.env };
    delete e.NATS_URL;
    delete e.ROOTCERT_FILE;
    e.BEAMLINE_DEMO_ENV = '';
    Object.assign(e, opts.env);
    execFile(process.execPath, [CLI, ...args], { env: e, cwd: opts.cwd, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Runs `beamline audit <args>` (see {@link runCli}). */
export function runAudit(args: string[], env: Record<string, string> = {}): Promise<AuditRun> {
  return runCli(['audit', ...args], { env });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until BEAM_AUDIT holds the newest BEAM_EVENTS message on `subject` (and so everything before it). */
export async function waitAudited(jsm: JetStreamManager, subject: string, timeoutMs = 10_000): Promise<void> {
  const seq = (await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject }))!.seq;
  const deadline = Date.now() + timeoutMs;
  while ((await auditCopyState(jsm, seq)) !== 'copied') {
    if (Date.now() > deadline) throw new Error(`BEAM_AUDIT did not copy ${subject} #${seq}`);
    await sleep(50);
  }
}
