import { parseBeamId } from '../beam-id';
import { describeValue } from '../describe-value';
import { InvalidInput } from '../errors';
import { expectNonNegativeInt, expectObject, expectRecipients, expectString, field, guarded, JsonObject } from '../json-fields';
import { parseBlobRef, parseWorkStatus, WorkStatus, type BlobRef } from '../messages';
import { parseUuid } from '../uuid';

/** A sealed body in the blob store that an event's message names: `uploader`'s blob `sha256` of `size` bytes. */
export interface StoredBlob extends BlobRef {
  uploader: string;
}

/** A task was accepted by the broker; `message` is the sender's compact JWS, verbatim. `blob`: the body it names, if stored as a blob. */
export interface TaskCreated {
  type: 'TaskCreated';
  v: 1;
  taskId: string;
  from: string;
  to: string[];
  message: string;
  digest: string;
  receivedAt: number;
  expiresAt: number;
  blob?: StoredBlob;
}
/**
 * A result was put (new or replacing the same app's earlier result). `created` repeats the signed message's
 * creation time (events from before message format 2 lack it): the store orders a worker's results by it, and a
 * receiving proxy refuses the event when it does not match the signed time.
 */
export interface ResultPut {
  type: 'ResultPut';
  v: 1;
  taskId: string;
  from: string;
  to: string[];
  status: WorkStatus;
  message: string;
  receivedAt: number;
  created?: number;
  blob?: StoredBlob;
}
/**
 * A task passed its TTL and was swept. `from`/`to` repeat the task's parties, so an audit trail that starts
 * after the task was created (retention, `--since`) still says whose task expired; older events lack them.
 */
export interface TaskExpired {
  type: 'TaskExpired';
  v: 1;
  taskId: string;
  expiredAt: number;
  from?: string;
  to?: string[];
}
/** Every event in the BEAM_EVENTS log. */
export type BeamEvent = TaskCreated | ResultPut | TaskExpired;

function nonEmptyString(v: unknown, name: string): string {
  const s = expectString(v, name);
  if (s.length === 0) throw new InvalidInput(`${name}: must not be empty`);
  return s;
}

/** The event's `blob`, if it names one. */
function blobOf(o: JsonObject): { blob?: StoredBlob } {
  const v = field(o, 'blob');
  if (v === undefined || v === null) return {};
  return { blob: { uploader: parseBeamId(field(expectObject(v, 'blob'), 'uploader'), 'blob.uploader'), ...parseBlobRef(v, 'blob') } };
}

function parseTaskCreated(o: JsonObject): TaskCreated {
  return {
    ...blobOf(o),
    type: 'TaskCreated',
    v: 1,
    taskId: parseUuid(field(o, 'taskId'), 'taskId'),
    from: parseBeamId(field(o, 'from'), 'from'),
    to: expectRecipients(field(o, 'to'), 'to'),
    message: nonEmptyString(field(o, 'message'), 'message'),
    digest: nonEmptyString(field(o, 'digest'), 'digest'),
    receivedAt: expectNonNegativeInt(field(o, 'receivedAt'), 'receivedAt'),
    expiresAt: expectNonNegativeInt(field(o, 'expiresAt'), 'expiresAt'),
  };
}

function parseResultPut(o: JsonObject): ResultPut {
  const event: ResultPut = {
    type: 'ResultPut',
    v: 1,
    taskId: parseUuid(field(o, 'taskId'), 'taskId'),
    from: parseBeamId(field(o, 'from'), 'from'),
    to: expectRecipients(field(o, 'to'), 'to'),
    status: parseWorkStatus(field(o, 'status')),
    message: nonEmptyString(field(o, 'message'), 'message'),
    receivedAt: expectNonNegativeInt(field(o, 'receivedAt'), 'receivedAt'),
  };
  if (field(o, 'created') !== undefined) event.created = expectNonNegativeInt(field(o, 'created'), 'created');
  return { ...event, ...blobOf(o) };
}

function parseTaskExpired(o: JsonObject): TaskExpired {
  const event: TaskExpired = {
    type: 'TaskExpired',
    v: 1,
    taskId: parseUuid(field(o, 'taskId'), 'taskId'),
    expiredAt: expectNonNegativeInt(field(o, 'expiredAt'), 'expiredAt'),
  };
  if (field(o, 'from') !== undefined) event.from = parseBeamId(field(o, 'from'), 'from');
  if (field(o, 'to') !== undefined) event.to = expectRecipients(field(o, 'to'), 'to');
  return event;
}

/** Validates a decoded event; throws InvalidInput on unknown type/version or bad fields. */
export function parseEvent(json: unknown): BeamEvent {
  return guarded(() => {
    const o = expectObject(json, 'event');
    const type = field(o, 'type');
    const v = field(o, 'v');
    if (v !== 1) throw new InvalidInput(`v: unsupported event version ${describeValue(v)}`);
    switch (type) {
      case 'TaskCreated':
        return parseTaskCreated(o);
      case 'ResultPut':
        return parseResultPut(o);
      case 'TaskExpired':
        return parseTaskExpired(o);
      default:
        throw new InvalidInput(`type: unknown event type ${describeValue(type)}`);
    }
  });
}
