/** `beamline audit …` run as an operator runs it: the built CLI in a child process, its stdout and stderr as bytes written. */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import type { JetStreamManager } from '@nats-io/jetstream';
import { auditCopyState } from '@beamline/audit';
import { EVENTS_STREAM } from '@beamline/nats';

export const CLI = resolve(__dirname, '..', '..', 'dist', 'apps', 'cli', 'src', 'main.js');

export interface AuditRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `beamline audit <args>` without NATS_URL or ROOTCERT_FILE from the test's environment. */
export function runAudit(args: string[], env: Record<string, string> = {}): Promise<AuditRun> {
  return new Promise((done) => {
    const e = { ...process.env };
    delete e.NATS_URL;
    delete e.ROOTCERT_FILE;
    Object.assign(e, env);
    execFile(process.execPath, [CLI, 'audit', ...args], { env: e, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
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
