/**
 * The request/reply contract between broker-api and broker-store, parsed on both sides (never cast).
 *
 * The store answers with *references* into the event log — where each message is (`seq`) and how big it is
 * (`bytes`), plus what a waiting read needs to decide (expiry, status) — never the signed messages
 * themselves: its memory then grows with the number of live items, not with their bodies, and broker-api
 * fetches the messages from the log by sequence while it streams the answer. Replies travel in chunks
 * (see chunked-reply.ts), so no listing is ever larger than one NATS message may be.
 */
import { expectNonNegativeInt, expectObject, field, guarded, InvalidInput, parseBeamId, parseUuid, parseWorkStatus, type WorkStatus } from '@beamline/domain';
import { subjects } from './subjects';

export type StoreQuery =
  | { q: 'tasks'; asApp: string; from?: string; to?: string; todo?: boolean; minSeq?: number }
  | { q: 'task'; asApp: string; taskId: string; minSeq?: number }
  | { q: 'results'; asApp: string; taskId: string; minSeq?: number }
  | { q: 'sockets'; asApp: string; minSeq?: number }
  /** Files offered to `asApp` that it has not dropped; `file`: one file for its sender or a recipient. */
  | { q: 'files'; asApp: string; minSeq?: number }
  | { q: 'file'; asApp: string; fileId: string; minSeq?: number }
  /** What one proxy's apps hold in the live log (its quotas); `asApp` is the proxy id here. */
  | { q: 'usage'; asApp: string; minSeq?: number };

/** Where a message is in BEAM_EVENTS: its sequence and the size of the stored event. */
export interface MessageRef {
  seq: number;
  bytes: number;
}

/** A live task (its TaskCreated) or socket request (its SocketRequested), and when it expires. */
export interface ExpiringRef extends MessageRef {
  expiresAt: number;
}

/** A result (its ResultPut) and its status, which decides whether it counts towards `wait_count`. */
export interface ResultRef extends MessageRef {
  status: WorkStatus;
}

/** What each query answers with: its list (`task` answers a list of one) and the head fields beside it. */
export interface StoreAnswers {
  tasks: { items: ExpiringRef[] };
  task: { items: ExpiringRef[] };
  results: { items: ResultRef[]; expiresAt: number };
  sockets: { items: ExpiringRef[] };
  files: { items: ExpiringRef[] };
  file: { items: ExpiringRef[] };
  /** No list (`items` stays empty): the figures are in the head. */
  usage: { items: ExpiringRef[]; tasks: number; bytes: number };
}

export type StoreAnswer<Q extends StoreQuery> = StoreAnswers[Q['q']] & { seq: number };

export type StoreErrorCode = 'not_found' | 'forbidden' | 'bad_query' | 'behind' | 'reply_failed';

/** A refusal; `behind` means "this replica has not applied your sequence yet, ask another one". */
export interface StoreError {
  error: StoreErrorCode;
  message: string;
}

export const STORE_QUERY_SUBJECT = subjects.storeQuery;

const ERROR_CODES: readonly StoreErrorCode[] = ['not_found', 'forbidden', 'bad_query', 'behind', 'reply_failed'];

/** Validates a query as the store receives it; throws InvalidInput naming the field. */
export function parseStoreQuery(json: unknown): StoreQuery {
  return guarded(() => {
    const o = expectObject(json, 'query');
    const asApp = parseBeamId(field(o, 'asApp'), 'asApp');
    const minSeqRaw = field(o, 'minSeq');
    const minSeq = minSeqRaw === undefined ? undefined : expectNonNegativeInt(minSeqRaw, 'minSeq');
    const q = field(o, 'q');
    switch (q) {
      case 'tasks': {
        const from = optional(o, 'from', (v) => parseBeamId(v, 'from'));
        const to = optional(o, 'to', (v) => parseBeamId(v, 'to'));
        const todo = field(o, 'todo');
        if (todo !== undefined && typeof todo !== 'boolean') throw new InvalidInput('todo: expected a boolean');
        return { q, asApp, from, to, todo, minSeq };
      }
      case 'task':
      case 'results':
        return { q, asApp, taskId: parseUuid(field(o, 'taskId'), 'taskId'), minSeq };
      case 'file':
        return { q, asApp, fileId: parseUuid(field(o, 'fileId'), 'fileId'), minSeq };
      case 'sockets':
      case 'files':
      case 'usage':
        return { q, asApp, minSeq };
      default:
        throw new InvalidInput(`q: unknown query ${JSON.stringify(q)}`);
    }
  });
}

function optional<T>(o: Record<string, unknown>, key: string, parse: (v: unknown) => T): T | undefined {
  const v = field(o, key);
  return v === undefined ? undefined : parse(v);
}

/** Validates the head of an answer (everything but the list) for `query`. */
export function parseAnswerHead(query: StoreQuery, json: unknown): { seq: number; expiresAt?: number; tasks?: number; bytes?: number } {
  return guarded(() => {
    const o = expectObject(json, 'answer');
    const seq = expectNonNegativeInt(field(o, 'seq'), 'seq');
    if (query.q === 'usage') return { seq, tasks: expectNonNegativeInt(field(o, 'tasks'), 'tasks'), bytes: expectNonNegativeInt(field(o, 'bytes'), 'bytes') };
    if (query.q !== 'results') return { seq };
    return { seq, expiresAt: expectNonNegativeInt(field(o, 'expiresAt'), 'expiresAt') };
  });
}

/** Validates one list entry of an answer to `query`. */
export function parseAnswerItem(query: StoreQuery, json: unknown): ExpiringRef | ResultRef {
  const o = expectObject(json, 'item');
  const ref = { seq: expectNonNegativeInt(field(o, 'seq'), 'seq'), bytes: expectNonNegativeInt(field(o, 'bytes'), 'bytes') };
  if (query.q === 'results') return { ...ref, status: parseWorkStatus(field(o, 'status')) };
  return { ...ref, expiresAt: expectNonNegativeInt(field(o, 'expiresAt'), 'expiresAt') };
}

/** Validates a refusal. */
export function parseStoreError(json: unknown): StoreError {
  const o = expectObject(json, 'error');
  const error = field(o, 'error');
  const message = field(o, 'message');
  if (!ERROR_CODES.includes(error as StoreErrorCode) || typeof message !== 'string') throw new InvalidInput('error: not a store error');
  return { error: error as StoreErrorCode, message };
}
