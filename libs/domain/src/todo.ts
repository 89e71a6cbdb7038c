import type { TaskView } from './projection';

/** True when `app` is a recipient of `task` and has no succeeded/permfailed/claimed result on it (tempfailed keeps it listed). */
export function isTodoFor(task: TaskView, app: string): boolean {
  if (!task.to.includes(app)) return false;
  const result = task.results.get(app);
  return result === undefined || result.status === 'tempfailed';
}
