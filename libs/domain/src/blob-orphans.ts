/**
 * Blobs in the store that nothing names: uploads whose message never came. An honest proxy names a blob
 * within seconds of storing it (a file's parts once its last part is stored), so an unnamed blob older than
 * a grace period is a failed upload, or a proxy filling the store; the expiry leader deletes it.
 */
import type { ProjectionState } from './projection';

/** A blob as the store lists it: who uploaded it, its digest, and when it was stored (ms). */
export interface ListedBlob {
  uploader: string;
  sha256: string;
  storedAt: number;
}

/** A blob's key in the store, `<uploader>/<sha256>`. */
export function blobKey(blob: { uploader: string; sha256: string }): string {
  return `${blob.uploader}/${blob.sha256}`;
}

/** The blobs the views still name: live tasks' bodies and their results' (until purged), and live files' parts. */
export function referencedBlobs(state: ProjectionState): Set<string> {
  const keys = new Set<string>();
  for (const task of state.tasks.values()) for (const blob of task.blobs ?? []) keys.add(blobKey(blob));
  for (const file of state.files.values()) for (const part of file.parts) keys.add(blobKey(part));
  return keys;
}

/** The listed blobs stored more than `graceMs` before `now` that no key in `referenced` names. */
export function orphanedBlobs(listed: readonly ListedBlob[], referenced: ReadonlySet<string>, now: number, graceMs: number): ListedBlob[] {
  return listed.filter((blob) => now - blob.storedAt > graceMs && !referenced.has(blobKey(blob)));
}
