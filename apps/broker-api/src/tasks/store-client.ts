/**
 * Asks broker-store (any replica) for views: retries across replicas, shares identical queries between
 * waiting requests, maps refusals to domain errors, and remembers recent failures for the health check.
 */
import { Inject, Injectable } from '@nestjs/common';
import { BrokerUnavailable, Forbidden, InvalidInput, NotFound } from '@beamline/domain';
import { StoreQueries, type StoreAnswer, type StoreError, type StoreQuery } from '@beamline/nats';

const QUERY_ATTEMPTS = 3;
/** Longer than the store's bounded wait for a writer's sequence (CATCH_UP_TIMEOUT_MS, 2 s). */
const ATTEMPT_TIMEOUT_MS = 3_000;
/** How long a failed query keeps the health check at `degraded`. */
const FAILURE_MEMORY_MS = 30_000;

interface SharedQuery {
  minSeq: number;
  answer: Promise<unknown>;
}

@Injectable()
export class StoreClient {
  /** Queries in flight by everything but their sequence: waiters woken by one write share one read. */
  private readonly inFlight = new Map<string, SharedQuery>();
  private lastFailure: { at: number; reason: string } | undefined;

  constructor(@Inject(StoreQueries) private readonly queries: StoreQueries) {}

  /**
   * The store's answer to `query`. An identical query already in flight for at least the same sequence is
   * joined rather than sent again: when one task wakes a thousand long-polls of one app, the store answers
   * once, not a thousand times.
   */
  query<Q extends StoreQuery>(query: Q): Promise<StoreAnswer<Q>> {
    const { minSeq, ...rest } = query;
    const key = JSON.stringify(rest);
    const shared = this.inFlight.get(key);
    if (shared && shared.minSeq >= (minSeq ?? 0)) return shared.answer as Promise<StoreAnswer<Q>>;
    const answer = this.ask(query);
    const entry: SharedQuery = { minSeq: minSeq ?? 0, answer };
    this.inFlight.set(key, entry);
    const forget = (): void => {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    };
    answer.then(forget, forget);
    return answer;
  }

  /**
   * Asks one replica; on no answer, or an answer from a replica still behind the writer's sequence, asks
   * again (the queue group picks a replica each time), so a dead or lagging replica costs a retry, not the
   * whole request.
   */
  private async ask<Q extends StoreQuery>(query: Q): Promise<StoreAnswer<Q>> {
    let failure = 'no answer';
    for (let attempt = 0; attempt < QUERY_ATTEMPTS; attempt++) {
      let reply: StoreAnswer<Q> | StoreError;
      try {
        reply = await this.queries.ask(query, ATTEMPT_TIMEOUT_MS);
      } catch (err) {
        failure = `no answer (${(err as Error).message})`;
        continue;
      }
      if (!('error' in reply)) return reply;
      if (reply.error === 'behind' || reply.error === 'reply_failed') {
        failure = reply.message;
        continue;
      }
      throw refusalError(reply);
    }
    this.lastFailure = { at: Date.now(), reason: failure };
    if (query.minSeq !== undefined && query.minSeq > (await this.queries.logEnd())) {
      throw new InvalidInput(`min_seq: ${query.minSeq} is beyond the end of the event log`, 'bad_min_seq');
    }
    // Never a stale answer (a 404 for a task that exists): the proxy retries a 502.
    throw new BrokerUnavailable(`store: ${failure}`, 'store_unavailable');
  }

  /** The store's applied sequence, or undefined when no replica answers within `timeoutMs`. */
  ping(timeoutMs = 1_000): Promise<number | undefined> {
    return this.queries.ping(timeoutMs);
  }

  /** Why queries failed lately (within the last 30 s), for the health check; undefined when none did. */
  recentFailure(now = Date.now()): string | undefined {
    return this.lastFailure && now - this.lastFailure.at < FAILURE_MEMORY_MS ? this.lastFailure.reason : undefined;
  }
}

function refusalError(reply: StoreError): Error {
  switch (reply.error) {
    case 'not_found':
      return new NotFound(reply.message);
    case 'forbidden':
      return new Forbidden(reply.message);
    default:
      return new InvalidInput(reply.message, reply.error);
  }
}
