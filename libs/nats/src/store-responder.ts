/**
 * broker-store's side of the store protocol (store-protocol.ts): view queries over request/reply in a queue
 * group, so replicas share the load, and pings. Queries are parsed here, at the boundary, so an answerer sees
 * only well-formed ones; answers go out in frames (chunked-reply.ts). Nothing a request does can end the
 * process: every failure is told to `onError` and answered as an error.
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { serveChunked, type ChunkedAnswer } from './chunked-reply';
import { decodeJson, encodeJson } from './codec';
import { parseStoreQuery, type StoreQuery } from './store-protocol';
import { safeCallback } from './safe-callback';
import { STORE_QUEUE_GROUP, subjects } from './subjects';

export interface StoreAnswerer {
  /** The answer to a well-formed query (a refusal is an `{ error }` answer). */
  answer: (query: StoreQuery) => Promise<ChunkedAnswer>;
  /** The sequence this replica's views have applied, once it answers at all. */
  appliedSeq: () => Promise<number>;
  onError: (message: string) => void;
  onBadQuery: (message: string) => void;
}

export class StoreResponder {
  constructor(private readonly nc: NatsConnection) {}

  /** Answers until the returned handle is closed. */
  serve(answerer: StoreAnswerer): { close(): void } {
    const subs = [
      serveChunked(this.nc, {
        subject: subjects.storeQuery,
        queue: STORE_QUEUE_GROUP,
        answer: (data) => this.answerRaw(answerer, data),
        onError: answerer.onError,
      }),
      this.nc.subscribe(subjects.storePing, {
        callback: safeCallback('ping', answerer.onError, (msg) => this.answerPing(answerer, msg)),
      }),
    ];
    return { close: () => subs.forEach((s) => s.unsubscribe()) };
  }

  private async answerRaw(answerer: StoreAnswerer, data: Uint8Array): Promise<ChunkedAnswer> {
    let query: StoreQuery;
    try {
      query = parseStoreQuery(decodeJson(data));
    } catch (err) {
      answerer.onBadQuery(`bad query: ${String(err)}`);
      return { error: { error: 'bad_query', message: String((err as Error).message ?? err) } };
    }
    return answerer.answer(query);
  }

  private async answerPing(answerer: StoreAnswerer, msg: Msg): Promise<void> {
    msg.respond(encodeJson({ seq: await answerer.appliedSeq() }));
  }
}
