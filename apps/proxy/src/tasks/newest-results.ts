/**
 * The newest signed creation time of each worker's result this proxy has shown, per task: a result older than one
 * already shown is refused, so a copy of an earlier result re-published into the log after a newer one is not
 * shown in its place (issue 13, attack 3). In memory and bounded: a proxy that restarted, or never saw the newer
 * result, cannot tell (docs/architecture.md, "Freshness").
 */
import { LRUCache } from 'lru-cache';
import { isOlderResult } from '@beamline/domain';

/** Tasks × workers remembered; the oldest are forgotten first. */
const MAX_REMEMBERED = 100_000;

export class NewestResults {
  private readonly newest = new LRUCache<string, { created: number }>({ max: MAX_REMEMBERED });

  /** True (and remembered) when `created` is not older than what was shown of `worker`'s results to `taskId`. */
  admit(taskId: string, worker: string, created: number): boolean {
    const key = `${taskId} ${worker}`;
    const prior = this.newest.get(key);
    if (isOlderResult(prior, created)) return false;
    this.newest.set(key, { created });
    return true;
  }
}
