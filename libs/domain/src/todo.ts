import type { WorkStatus } from './messages';

/** What the todo rule looks at: a task's recipients and the status of each recipient's result. */
export interface TodoCandidate {
  to: readonly string[];
  results: ReadonlyMap<string, { status: WorkStatus }>;
}

/** True when `app` is a recipient of `task` and has no succeeded/permfailed/claimed result on it (tempfailed keeps it listed). */
export function isTodoFor(task: TodoCandidate, app: string): boolean {
  if (!task.to.includes(app)) return false;
  const result = task.results.get(app);
  return result === undefined || result.status === 'tempfailed';
}
