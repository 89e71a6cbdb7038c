/**
 * broker-api's side of the store protocol: asks one broker-store replica (the queue group picks it) and
 * parses the framed answer. Retrying, sharing and mapping refusals to domain errors is the caller's business.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { decodeJson, encodeJson } from './codec';
import { requestInChunks } from './chunked-reply';
import { parseAnswerHead, parseAnswerItem, parseStoreError, type StoreAnswer, type StoreError, type StoreQuery } from './store-protocol';
import { EVENTS_STREAM, subjects } from './subjects';

export class StoreQueries {
  constructor(private readonly nc: NatsConnection) {}

  /**
   * One attempt: the parsed answer or refusal, or a rejection when no replica answered completely within
   * `timeoutMs` (no responders, a timeout, a lost frame) or the answer did not parse.
   */
  async ask<Q extends StoreQuery>(query: Q, timeoutMs: number): Promise<StoreAnswer<Q> | StoreError> {
    const reply = await requestInChunks(this.nc, subjects.storeQuery, encodeJson(query), timeoutMs);
    if ('error' in reply) return parseStoreError(reply.error);
    const head = parseAnswerHead(query, reply.head);
    const items = reply.items.map((item) => parseAnswerItem(query, item));
    return { ...head, items } as StoreAnswer<Q>;
  }

  /** The sequence the fastest replica has applied, or undefined when none answers within `timeoutMs`. */
  async ping(timeoutMs: number): Promise<number | undefined> {
    try {
      const msg = await this.nc.request(subjects.storePing, encodeJson({}), { timeout: timeoutMs });
      const seq = (decodeJson(msg.data) as { seq?: unknown }).seq;
      return typeof seq === 'number' ? seq : undefined;
    } catch {
      return undefined;
    }
  }

  /** The last sequence of BEAM_EVENTS (Infinity when it cannot be read). */
  async logEnd(): Promise<number> {
    try {
      return (await (await jetstreamManager(this.nc)).streams.info(EVENTS_STREAM)).state.last_seq;
    } catch {
      return Infinity;
    }
  }
}
