/** Asks broker-store (any replica, via the queue group) for views. */
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { BrokerUnavailable, Forbidden, InvalidInput, NotFound } from '@beamline/domain';
import { jetstreamManager } from '@nats-io/jetstream';
import { decodeJson, encodeJson, EVENTS_STREAM, NATS_CONNECTION, subjects, type StoreQuery, type StoreReply } from '@beamline/nats';

type OkReply = Extract<StoreReply, { ok: true }>;

const QUERY_ATTEMPTS = 3;
/** Longer than the store's bounded wait for a writer's sequence (CATCH_UP_TIMEOUT_MS, 2 s). */
const ATTEMPT_TIMEOUT_MS = 3_000;

@Injectable()
export class StoreClient {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  /**
   * Asks one store replica; on no answer, or an answer from a replica still behind the writer's sequence,
   * asks again (the queue group picks a replica each time), so a dead or lagging replica costs a retry, not
   * the whole request.
   */
  async query<R extends OkReply>(query: StoreQuery): Promise<R> {
    let reply: StoreReply | undefined;
    let failure = 'no answer';
    for (let attempt = 0; attempt < QUERY_ATTEMPTS && reply === undefined; attempt++) {
      try {
        const msg = await this.nc.request(subjects.storeQuery, encodeJson(query), { timeout: ATTEMPT_TIMEOUT_MS });
        const answer = decodeJson(msg.data) as StoreReply;
        if (!answer.ok && answer.error === 'behind') failure = answer.message;
        else reply = answer;
      } catch (err) {
        failure = `no answer (${(err as Error).message})`;
      }
    }
    if (reply === undefined) {
      if (query.minSeq !== undefined && query.minSeq > (await this.logEnd())) {
        throw new InvalidInput(`min_seq: ${query.minSeq} is beyond the end of the event log`, 'bad_min_seq');
      }
      // Never a stale answer (a 404 for a task that exists): the proxy retries a 502.
      throw new BrokerUnavailable(`store: ${failure}`, 'store_unavailable');
    }
    if (reply.ok) return reply as R;
    switch (reply.error) {
      case 'not_found':
        throw new NotFound(reply.message);
      case 'forbidden':
        throw new Forbidden(reply.message);
      default:
        throw new InvalidInput(reply.message, reply.error);
    }
  }

  /** The last sequence of BEAM_EVENTS (Infinity when it cannot be read: then the store is to blame). */
  private async logEnd(): Promise<number> {
    try {
      return (await (await jetstreamManager(this.nc)).streams.info(EVENTS_STREAM)).state.last_seq;
    } catch {
      return Infinity;
    }
  }

  /** The store's applied sequence, or undefined when no replica answers within `timeoutMs`. */
  async ping(timeoutMs = 1_000): Promise<number | undefined> {
    try {
      const msg = await this.nc.request(subjects.storePing, encodeJson({}), { timeout: timeoutMs });
      return (decodeJson(msg.data) as { seq: number }).seq;
    } catch {
      return undefined;
    }
  }
}
