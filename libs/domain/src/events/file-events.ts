/**
 * File events of the BEAM_EVENTS log: a file offered (its signed offer verbatim, and the parts it names), a
 * recipient dropping it, its expiry. The file's bytes are never in the log: they are blobs of the blob store.
 */
import { parseBeamId } from '../beam-id';
import { InvalidInput } from '../errors';
import { expectNonNegativeInt, expectObject, expectRecipients, expectString, field, type JsonObject } from '../json-fields';
import { parseBlobRef } from '../messages';
import { parseUuid } from '../uuid';
import type { StoredBlob } from './task-events';

/** A file offer was accepted: `message` is the sender proxy's signed offer; `parts` the blobs it names, in order. */
export interface FileOffered {
  type: 'FileOffered';
  v: 1;
  fileId: string;
  from: string;
  to: string[];
  message: string;
  size: number;
  parts: StoredBlob[];
  receivedAt: number;
  expiresAt: number;
}
/** A recipient dropped the file: it is gone from that recipient's listing (the blobs go once every recipient dropped it, or at expiry). */
export interface FileDropped {
  type: 'FileDropped';
  v: 1;
  fileId: string;
  by: string;
  droppedAt: number;
}
/** The file passed its TTL; the expiry leader deleted its parts. */
export interface FileExpired {
  type: 'FileExpired';
  v: 1;
  fileId: string;
  expiredAt: number;
}
export type FileEvent = FileOffered | FileDropped | FileExpired;

export const FILE_EVENT_TYPES: ReadonlySet<string> = new Set(['FileOffered', 'FileDropped', 'FileExpired']);

function parseFileOffered(o: JsonObject): FileOffered {
  const parts = field(o, 'parts');
  if (!Array.isArray(parts) || parts.length === 0) throw new InvalidInput('parts: expected a non-empty array');
  const message = expectString(field(o, 'message'), 'message');
  if (message.length === 0) throw new InvalidInput('message: must not be empty');
  return {
    type: 'FileOffered',
    v: 1,
    fileId: parseUuid(field(o, 'fileId'), 'fileId'),
    from: parseBeamId(field(o, 'from'), 'from'),
    to: expectRecipients(field(o, 'to'), 'to'),
    message,
    size: expectNonNegativeInt(field(o, 'size'), 'size'),
    parts: parts.map((p, i) => ({
      uploader: parseBeamId(field(expectObject(p, `parts[${i}]`), 'uploader'), `parts[${i}].uploader`),
      ...parseBlobRef(p, `parts[${i}]`),
    })),
    receivedAt: expectNonNegativeInt(field(o, 'receivedAt'), 'receivedAt'),
    expiresAt: expectNonNegativeInt(field(o, 'expiresAt'), 'expiresAt'),
  };
}

/** Parses a file event (its `type` is one of FILE_EVENT_TYPES and `v` is 1, checked by the caller). */
export function parseFileEvent(o: JsonObject): FileEvent {
  switch (field(o, 'type')) {
    case 'FileOffered':
      return parseFileOffered(o);
    case 'FileDropped':
      return {
        type: 'FileDropped',
        v: 1,
        fileId: parseUuid(field(o, 'fileId'), 'fileId'),
        by: parseBeamId(field(o, 'by'), 'by'),
        droppedAt: expectNonNegativeInt(field(o, 'droppedAt'), 'droppedAt'),
      };
    default:
      return {
        type: 'FileExpired',
        v: 1,
        fileId: parseUuid(field(o, 'fileId'), 'fileId'),
        expiredAt: expectNonNegativeInt(field(o, 'expiredAt'), 'expiredAt'),
      };
  }
}
