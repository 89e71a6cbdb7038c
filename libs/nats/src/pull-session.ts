/**
 * One ephemeral consumer on a stream, read by pull requests that are each bounded in bytes, one request at a
 * time: the next request leaves only after every message of the previous one was handed over and the
 * request has ended. So nats-server never has more than one request's bytes queued for this reader, and the
 * reader never holds more than that plus the message its handler is working on.
 *
 * Why not nats.js's consume()/fetch(): consume() keeps asking for "max_bytes minus what is still owed", and
 * such a partial request cannot hold a large message: the server answers 409 and consume() stalls until two
 * heartbeats are missed (seconds per large event in a mixed log). fetch() treats that 409, the normal end
 * of a byte-bounded request, as an error.
 */
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/nats-core';
import { PullInbox } from './pull-inbox';

export interface StreamMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers?: MsgHdrs;
  /** When the stream stored it (ms since the epoch). */
  storedAt: number;
  /** How many messages matching the filter followed it in the stream when it was delivered. */
  pending: number;
}

/** Where a session starts: a stream sequence, a time (ms since the epoch), or the first message. */
export type PullStart = { seq: number } | { timeMs: number } | 'first';

export interface PullBounds {
  /** At most this many bytes per request, as the server counts them (subject, reply, headers, payload). */
  maxBytes: number;
  /** At most this many messages per request. */
  maxMessages: number;
  /** The server sends a heartbeat after this long without a message while a request waits. */
  heartbeatMs: number;
  /** A waiting request ends after this long (and the next one is sent). */
  expiresMs: number;
}

/** The session cannot go on (a gap, silence, the consumer gone); start a new one after the last message. */
export class PullInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PullInterrupted';
  }
}

/** Yielded when the server reports it has nothing more to deliver for now (a heartbeat or an expired request). */
export const IDLE = Symbol('idle');

/** Two heartbeats and a half without a word: the consumer or the server holding it is gone. */
const SILENCE_HEARTBEATS = 2.5;
/** A consumer nobody reads from for this long is removed by the server (e.g. after this process died). */
const INACTIVE_MS = 5 * 60_000;
const API_PREFIX = '$JS.API';

interface OpenRequest {
  replySubject: string;
  messagesLeft: number;
  bytesLeft: number;
  delivered: number;
}

export class PullSession {
  private readonly inbox: PullInbox;
  private expectedDelivery = 1;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly stream: string,
    private readonly consumer: string,
    /** Messages matching the filter from the start on, when the session began. */
    readonly pendingAtStart: number,
    private readonly bounds: PullBounds,
  ) {
    this.inbox = new PullInbox(nc);
  }

  static async open(
    nc: NatsConnection,
    jsm: JetStreamManager,
    stream: string,
    opts: { filterSubject?: string; start: PullStart; bounds: PullBounds },
  ): Promise<PullSession> {
    const info = await jsm.consumers.add(stream, consumerConfig(opts.filterSubject, opts.start));
    return new PullSession(nc, jsm, stream, info.name, info.num_pending, opts.bounds);
  }

  /**
   * The stream's messages in order, until `signal` aborts or the connection closes; throws PullInterrupted.
   * `IDLE` marks a moment the server had nothing more to deliver (everything before it was handed over).
   */
  async *messages(signal?: AbortSignal): AsyncGenerator<StreamMessage | typeof IDLE> {
    while (!signal?.aborted) {
      const request = this.request();
      for (;;) {
        const event = await this.inbox.next(SILENCE_HEARTBEATS * this.bounds.heartbeatMs, signal);
        if ('closed' in event) {
          if (signal?.aborted) return;
          throw new PullInterrupted('the connection closed');
        }
        if ('silent' in event) throw new PullInterrupted(`no message or heartbeat from ${this.stream} for ${SILENCE_HEARTBEATS} heartbeats`);
        const { msg } = event;
        const status = msg.headers?.code ?? 0;
        if (status > 0) {
          if (msg.subject !== request.replySubject) continue; // a late word about an earlier request
          const ended = this.requestEnded(status, msg.headers?.description ?? '', request);
          if (status === 100 || status === 404 || status === 408) yield IDLE;
          if (ended) break;
          continue;
        }
        yield this.delivered(msg, request);
        if (request.messagesLeft === 0 || request.bytesLeft <= 0) break;
      }
    }
  }

  /** Stops reading and removes the consumer (the server would after INACTIVE_MS anyway). */
  async close(): Promise<void> {
    this.inbox.close();
    await this.jsm.consumers.delete(this.stream, this.consumer).catch(() => undefined);
  }

  private request(): OpenRequest {
    const { maxMessages, maxBytes, heartbeatMs, expiresMs } = this.bounds;
    const request = { replySubject: this.inbox.nextReplySubject(), messagesLeft: maxMessages, bytesLeft: maxBytes, delivered: 0 };
    const body = { batch: maxMessages, max_bytes: maxBytes, expires: nanos(expiresMs), idle_heartbeat: nanos(heartbeatMs) };
    this.nc.publish(`${API_PREFIX}.CONSUMER.MSG.NEXT.${this.stream}.${this.consumer}`, JSON.stringify(body), { reply: request.replySubject });
    return request;
  }

  /** Whether a status message ends the request (true), is a heartbeat (false), or ends the session (throws). */
  private requestEnded(status: number, description: string, request: OpenRequest): boolean {
    if (status === 100) return false;
    if (status === 404 || status === 408) return true;
    if (status === 409 && /batch completed/i.test(description)) return true;
    if (status === 409 && /message size exceeds max ?bytes/i.test(description)) {
      // The next message did not fit what was left of this request; a fresh request has room for any.
      if (request.delivered > 0) return true;
      throw new PullInterrupted(`a message in ${this.stream} is larger than a pull may carry (${this.bounds.maxBytes} bytes)`);
    }
    throw new PullInterrupted(`${this.stream}: ${status} ${description}`);
  }

  private delivered(msg: Msg, request: OpenRequest): StreamMessage {
    const delivery = parseDelivery(msg.reply);
    if (delivery.deliverySeq !== this.expectedDelivery) {
      throw new PullInterrupted(`${this.stream}: delivery ${delivery.deliverySeq} arrived where ${this.expectedDelivery} was expected`);
    }
    this.expectedDelivery++;
    request.delivered++;
    request.messagesLeft--;
    // A request whose bytes are used up exactly ends without a word from the server: count as it does.
    request.bytesLeft -= wireSize(msg);
    return { seq: delivery.streamSeq, subject: msg.subject, data: msg.data, headers: msg.headers, storedAt: delivery.storedAt, pending: delivery.pending };
  }
}

function consumerConfig(filterSubject: string | undefined, start: PullStart): Partial<ConsumerConfig> {
  const from =
    start === 'first'
      ? { deliver_policy: DeliverPolicy.All }
      : 'seq' in start
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start.seq }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(Math.max(0, start.timeMs)).toISOString() };
  return {
    ...from,
    ...(filterSubject ? { filter_subject: filterSubject } : {}),
    ack_policy: AckPolicy.None,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: nanos(INACTIVE_MS),
  };
}

interface Delivery {
  streamSeq: number;
  deliverySeq: number;
  storedAt: number;
  pending: number;
}

/**
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<delivery seq>.<ns>.<pending>` (nats-server 2.9), or
 * the newer form with `<domain>.<account hash>` after `ACK` and a random token at the end.
 */
export function parseDelivery(reply: string | undefined): Delivery {
  const t = (reply ?? '').split('.');
  if (t[0] !== '$JS' || t[1] !== 'ACK' || (t.length !== 9 && t.length < 11)) throw new PullInterrupted(`not a JetStream delivery: ${reply}`);
  const at = t.length === 9 ? 5 : 7;
  return { streamSeq: Number(t[at]), deliverySeq: Number(t[at + 1]), storedAt: Math.floor(Number(t[at + 2]) / 1e6), pending: Number(t[at + 3]) };
}

/** The size the server charges a delivered message against a request's max_bytes. */
function wireSize(msg: Msg): number {
  const counted = (msg as Msg & { size?: () => number }).size?.();
  return counted ?? msg.subject.length + (msg.reply?.length ?? 0) + msg.data.length;
}
