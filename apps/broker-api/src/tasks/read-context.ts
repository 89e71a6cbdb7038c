/** What every long-polling read carries from the controller to its handler, and the read-your-writes floor. */
import type { Response } from 'express';
import { canSignFor, Forbidden, InvalidInput, parseBeamId, parseWaitParams, type WaitParams } from '@beamline/domain';
import { abortOnClose, queryParam } from '@beamline/http';
import type { AuthenticatedProxy, ProxyRequest } from '../auth/proxy-auth.guard';
import type { Wakeups } from './wakeups';

/** A read as the controller hands it over: who asks, how long it may wait, what the caller has already seen. */
export interface ReadContext {
  asApp: string;
  wait: WaitParams;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** The caller's `min_seq`. */
  minSeq: number;
}

export interface Listing<T> {
  items: T[];
  /** False when the wait ended (time, expiry) before the wait condition held: answered as 206. */
  complete: boolean;
}

/**
 * What a read asks of the store, `minSeq`: at least what the caller has seen (its `min_seq`), what the wait was
 * woken for, and what this replica wrote or heard of (read-your-writes on any replica).
 */
export function minSeqFor(wakeups: Wakeups, wokenFor: number | undefined, read: ReadContext): number | undefined {
  const seq = Math.max(wokenFor ?? 0, read.minSeq, wakeups.newestSeq);
  return seq > 0 ? seq : undefined;
}

/** `min_seq`: the newest Beam-Seq the proxy has seen, so its reads include its own writes on any replica. */
export function minSeqOf(req: ProxyRequest): number {
  const raw = queryParam(req, 'min_seq');
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!/^\d{1,15}$/.test(raw) || !Number.isSafeInteger(n)) throw new InvalidInput('min_seq: expected a non-negative integer');
  return n;
}

/** `beam_app`: the app a proxy acts for; Forbidden unless the proxy may sign for it. */
export function actingApp(req: ProxyRequest): string {
  const app = parseBeamId(queryParam(req, 'beam_app'), 'beam_app');
  const proxyId = (req.proxy as AuthenticatedProxy).proxyId;
  if (!canSignFor(proxyId, app)) throw new Forbidden(`beam_app: ${proxyId} cannot act for ${app}`);
  return app;
}

/** The read a proxy request asks for: its acting app, its wait (at most `maxWaitMs`), its `min_seq`. */
export function readContextOf(req: ProxyRequest, res: Response, maxWaitMs: number): ReadContext {
  const wait = parseWaitParams({ wait_count: queryParam(req, 'wait_count'), wait_time: queryParam(req, 'wait_time') }, maxWaitMs);
  return { asApp: actingApp(req), wait, signal: abortOnClose(res), minSeq: minSeqOf(req) };
}
