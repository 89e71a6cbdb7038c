/** Deciders for file writes (see deciders.ts): offer once, drop by a recipient of a live file. */
import type { Decision, Stored } from './deciders';
import { Conflict, NotFound } from './errors';
import type { FileDropped, FileOffered, StoredBlob } from './events';

/** What broker-api appends for a verified offer: its parties, the signed message, and the parts it names. */
export interface OfferFile {
  fileId: string;
  from: string;
  to: string[];
  message: string;
  size: number;
  parts: StoredBlob[];
  ttlMs: number;
}

/** Offer-once: an empty subject takes the offer; the same signed offer again is a retry; another is a conflict. */
export function decideOfferFile(prior: Stored<FileOffered> | undefined, command: OfferFile, now: number): Decision<FileOffered> {
  if (prior) {
    if (prior.event.message === command.message) return { kind: 'already', seq: prior.seq };
    throw new Conflict(`id: file ${command.fileId} already exists`, 'file_exists');
  }
  const { fileId, from, to, message, size, parts, ttlMs } = command;
  return {
    kind: 'append',
    event: { type: 'FileOffered', v: 1, fileId, from, to, message, size, parts, receivedAt: now, expiresAt: now + ttlMs },
    expectedLastSubjectSeq: 0,
  };
}

/** A recipient drops a live file offered to it (again: nothing new); anyone else gets NotFound, as for a file that is gone. */
export function decideDropFile(
  fileId: string,
  file: Stored<FileOffered> | undefined,
  prior: Stored<FileDropped> | undefined,
  by: string,
  now: number,
): Decision<FileDropped> {
  if (!file || now >= file.event.expiresAt || !file.event.to.includes(by)) throw new NotFound(`file ${fileId} not found`);
  if (prior) return { kind: 'already', seq: prior.seq };
  return { kind: 'append', event: { type: 'FileDropped', v: 1, fileId, by, droppedAt: now }, expectedLastSubjectSeq: 0 };
}
