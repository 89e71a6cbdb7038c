/**
 * The rules every write obeys, shared by the deciders (what broker-api appends) and the projection reducer
 * (what broker-store makes of the log), so the two never disagree.
 */
import type { WorkStatus } from './messages';

/** A task, result or socket request is live until its `expiresAt` (exclusive). */
export function isLive(expiresAt: number, now: number): boolean {
  return now < expiresAt;
}

/** A create that meets a live task of the same id is a retry when the same sender posted the same content. */
export function isSameTask(existing: { from: string; digest: string }, incoming: { from: string; digest: string }): boolean {
  return existing.from === incoming.from && existing.digest === incoming.digest;
}

/** Only a task's recipients may answer it. */
export function isRecipient(task: { to: readonly string[] }, app: string): boolean {
  return task.to.includes(app);
}

/** A late `claimed` never overwrites a final result of the same worker. */
export function isLateClaim(prior: { status: WorkStatus } | undefined, status: WorkStatus): boolean {
  return status === 'claimed' && prior !== undefined && (prior.status === 'succeeded' || prior.status === 'permfailed');
}

/**
 * Among results of one worker for one task the newest signed one wins: a result signed before the current one
 * (`created`, copied from the verified message) never replaces it, nor does one without a time after one with.
 * A copy of an older result re-published into the log thus does not displace the newer (issue 13, attack 3).
 */
export function isOlderResult(prior: { created?: number } | undefined, created: number | undefined): boolean {
  return prior?.created !== undefined && (created === undefined || created < prior.created);
}
