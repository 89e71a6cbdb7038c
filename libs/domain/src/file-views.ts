/** The projection's view of files sent store-and-forward (part of ProjectionState, applied by the reducer). */
import type { FileEvent, StoredBlob } from './events';

/** A file as the projection keeps it: where its FileOffered is (`seq`, `bytes`), its parts, who dropped it. */
export interface FileView {
  fileId: string;
  from: string;
  to: string[];
  size: number;
  receivedAt: number;
  expiresAt: number;
  seq: number;
  bytes: number;
  parts: StoredBlob[];
  droppedBy: Set<string>;
}

/** Applies a file event at `seq` (its stored event `bytes` long); `charge` books bytes to (or, negative, off) a sender's usage. */
export function applyFileEvent(files: Map<string, FileView>, e: FileEvent, seq: number, bytes: number, charge: (sender: string, bytes: number) => void): void {
  switch (e.type) {
    case 'FileOffered': {
      if (files.has(e.fileId)) return; // create-once: ids are fresh UUIDs, and FileExpired removes a file for good
      const { fileId, from, to, size, receivedAt, expiresAt, parts } = e;
      files.set(fileId, { fileId, from, to: [...to], size, receivedAt, expiresAt, seq, bytes, parts, droppedBy: new Set() });
      charge(from, chargedBytes(files.get(fileId) as FileView));
      return;
    }
    case 'FileDropped': {
      const file = files.get(e.fileId);
      if (file?.to.includes(e.by)) file.droppedBy.add(e.by);
      return;
    }
    case 'FileExpired': {
      const file = files.get(e.fileId);
      if (!file) return;
      files.delete(e.fileId);
      charge(file.from, -chargedBytes(file));
    }
  }
}

function chargedBytes(file: FileView): number {
  return file.bytes + file.parts.reduce((sum, p) => sum + p.size, 0);
}

const isLive = (file: FileView, now: number): boolean => now < file.expiresAt;

/** Files offered to `app` that it has not dropped, live at `now`, in log order. */
export function filesFor(files: Map<string, FileView>, app: string, now: number): FileView[] {
  const out: FileView[] = [];
  for (const f of files.values()) if (isLive(f, now) && f.to.includes(app) && !f.droppedBy.has(app)) out.push(f);
  return out.sort((a, b) => a.seq - b.seq);
}

/** File `fileId` as `app` may see it (its sender, or a recipient that has not dropped it), live at `now`. */
export function liveFileFor(files: Map<string, FileView>, fileId: string, app: string, now: number): FileView | undefined {
  const f = files.get(fileId);
  if (!f || !isLive(f, now)) return undefined;
  return f.from === app || (f.to.includes(app) && !f.droppedBy.has(app)) ? f : undefined;
}

/** Files whose parts can go: expired at `now`, or dropped by every recipient. */
export function filesToRemove(files: Map<string, FileView>, now: number): FileView[] {
  const out: FileView[] = [];
  for (const f of files.values()) if (!isLive(f, now) || f.to.every((r) => f.droppedBy.has(r))) out.push(f);
  return out;
}
