/**
 * Request/reply whose answer may be larger than one NATS message: the responder sends the answer as a
 * numbered series of frames to the requester's inbox, each well under the connection's `max_payload`, and
 * marks the last one. The requester checks the numbering, so a frame lost on the way (core NATS is
 * at-most-once) makes the whole answer fail — and be asked again — instead of arriving silently short.
 *
 * Frame: `{"part":k,"last":bool,"head":{…}?,"items":[…]}` (head in part 0 only), or one error frame
 * `{"part":0,"last":true,"error":{…}}`.
 */
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { decodeJson } from './codec';

/** Frames stay at most this big even when the server would take more: a few fit in any socket buffer. */
export const MAX_FRAME_BYTES = 256 * 1024;
/** Room for the frame's own JSON and the protocol line around the items. */
const FRAME_OVERHEAD_BYTES = 1024;

const encoder = new TextEncoder();

export type ChunkedAnswer = { head: object; items: readonly unknown[] } | { error: object };

/** An answer that arrived incomplete (a missing frame, or no last frame before the deadline). */
export class IncompleteReply extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IncompleteReply';
  }
}

/** The frame budget on `nc`: MAX_FRAME_BYTES, or less when the server's max_payload is smaller. */
export function frameBudget(nc: NatsConnection): number {
  const maxPayload = nc.info?.max_payload ?? MAX_FRAME_BYTES;
  return Math.max(FRAME_OVERHEAD_BYTES, Math.min(MAX_FRAME_BYTES, maxPayload) - FRAME_OVERHEAD_BYTES);
}

/**
 * Sends `answer` to `msg`'s reply inbox in frames of at most `budget` bytes of items (an item larger than
 * the budget gets a frame of its own). Throws when a frame cannot be published; the caller answers with an
 * error frame then.
 */
export function replyInChunks(msg: Msg, answer: ChunkedAnswer, budget: number): void {
  if ('error' in answer) {
    msg.respond(encoder.encode(JSON.stringify({ part: 0, last: true, error: answer.error })));
    return;
  }
  const frames: string[][] = [[]];
  let size = 0;
  for (const item of answer.items) {
    const text = JSON.stringify(item);
    const current = frames[frames.length - 1];
    if (current.length > 0 && size + text.length + 1 > budget) {
      frames.push([text]);
      size = text.length;
    } else {
      current.push(text);
      size += text.length + 1;
    }
  }
  const head = JSON.stringify(answer.head);
  frames.forEach((items, part) => {
    const last = part === frames.length - 1;
    const headField = part === 0 ? `,"head":${head}` : '';
    msg.respond(encoder.encode(`{"part":${part},"last":${last}${headField},"items":[${items.join(',')}]}`));
  });
}

/**
 * Asks `subject` and collects the framed answer within `timeoutMs`. Resolves with the head and all items in
 * order, or with the error frame's body; rejects with IncompleteReply when a frame is missing or the last one
 * does not come in time, and with the client's error when no one answers.
 */
export async function requestInChunks(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  timeoutMs: number,
): Promise<{ head: unknown; items: unknown[] } | { error: unknown }> {
  const frames = await nc.requestMany(subject, payload, { strategy: 'sentinel', maxWait: timeoutMs });
  let head: unknown;
  const items: unknown[] = [];
  let expected = 0;
  for await (const m of frames) {
    const frame = decodeJson(m.data) as { part?: unknown; last?: unknown; head?: unknown; items?: unknown; error?: unknown };
    if (frame.part !== expected) throw new IncompleteReply(`frame ${String(frame.part)} arrived where ${expected} was due`);
    if (expected === 0 && frame.error !== undefined) return { error: frame.error };
    if (expected === 0) head = frame.head;
    if (!Array.isArray(frame.items)) throw new IncompleteReply(`frame ${expected} has no items`);
    for (const item of frame.items) items.push(item);
    if (frame.last === true) return { head, items };
    expected++;
  }
  throw new IncompleteReply(expected === 0 ? `no answer within ${timeoutMs} ms` : `only ${expected} frame(s) within ${timeoutMs} ms`);
}

export interface ChunkedServer {
  subject: string;
  /** Replicas in one queue group share the requests. */
  queue?: string;
  /** The answer to one request (a refusal is an `{ error }` answer). Must not throw; if it does, the request is answered `reply_failed`. */
  answer: (data: Uint8Array) => Promise<ChunkedAnswer>;
  /** Told about every failure, with what it concerned; nothing else happens to the process. */
  onError: (message: string) => void;
}

/**
 * Serves framed answers on `subject`. No failure in a handler or in sending ends the process or the
 * subscription: an answer that cannot be sent (a frame over the server's max_payload, a closed connection) is
 * replaced by a `reply_failed` refusal, so the requester learns at once and asks again elsewhere.
 */
export function serveChunked(nc: NatsConnection, server: ChunkedServer): { unsubscribe(): void } {
  const respond = async (msg: Msg): Promise<void> => {
    let answer: ChunkedAnswer;
    try {
      answer = await server.answer(msg.data);
    } catch (err) {
      server.onError(`answering a request on ${server.subject} failed: ${String(err)}`);
      answer = { error: { error: 'reply_failed', message: 'the responder failed to answer' } };
    }
    try {
      replyInChunks(msg, answer, frameBudget(nc));
    } catch (err) {
      server.onError(`could not send an answer on ${server.subject}: ${String(err)}`);
      try {
        replyInChunks(
          msg,
          { error: { error: 'reply_failed', message: `the answer could not be sent: ${String((err as Error).message ?? err)}` } },
          frameBudget(nc),
        );
      } catch (again) {
        server.onError(`could not send the failure either: ${String(again)}`);
      }
    }
  };
  return nc.subscribe(server.subject, {
    queue: server.queue,
    callback: (err, msg) => {
      if (err) server.onError(`subscription on ${server.subject}: ${String(err)}`);
      else void respond(msg);
    },
  });
}
