/** Asks broker-store (any replica, via the queue group) for views. */
import { Inject, Injectable } from '@nestjs/common';
import type { NatsConnection } from '@nats-io/nats-core';
import { BrokerUnavailable, Forbidden, InvalidInput, NotFound } from '@beamline/domain';
import { decodeJson, encodeJson, NATS_CONNECTION, subjects, type StoreQuery, type StoreReply } from '@beamline/nats';

type OkReply = Extract<StoreReply, { ok: true }>;

@Injectable()
export class StoreClient {
  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async query<R extends OkReply>(query: StoreQuery): Promise<R> {
    let reply: StoreReply;
    try {
      const msg = await this.nc.request(subjects.storeQuery, encodeJson(query), { timeout: 10_000 });
      reply = decodeJson(msg.data) as StoreReply;
    } catch (err) {
      throw new BrokerUnavailable(`store: no answer (${(err as Error).message})`, 'store_unavailable');
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
