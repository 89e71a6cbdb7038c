/**
 * The request/reply contract between broker-api and broker-store. Items carry the sender's signed message
 * verbatim; the store never sees plaintext.
 */
import { subjects } from './subjects';

export type StoreQuery =
  | { q: 'tasks'; asApp: string; from?: string; to?: string; todo?: boolean; minSeq?: number }
  | { q: 'task'; asApp: string; taskId: string; minSeq?: number }
  | { q: 'results'; asApp: string; taskId: string; minSeq?: number }
  | { q: 'sockets'; asApp: string; minSeq?: number };

export interface TaskItem {
  message: string;
  expiresAt: number;
  seq: number;
}

/** A live socket request: the initiator proxy's signed request, verbatim. */
export interface SocketItem {
  message: string;
  expiresAt: number;
  seq: number;
}

export interface ResultItem {
  message: string;
  status: string;
  seq: number;
}

export type StoreReply =
  | { ok: true; seq: number; tasks: TaskItem[] }
  | { ok: true; seq: number; task: TaskItem }
  | { ok: true; seq: number; results: ResultItem[]; expiresAt: number }
  | { ok: true; seq: number; sockets: SocketItem[] }
  | { ok: false; error: 'not_found' | 'forbidden' | 'bad_query' | 'behind'; message: string };

export const STORE_QUERY_SUBJECT = subjects.storeQuery;
