/**
 * Appends to and reads from the event log. JetStream is the only source of truth: an append returns only
 * after the stream acknowledged it, and the per-subject sequence is the concurrency token.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { PayloadTooLarge } from '@beamline/domain';
import { decodeJson, encodeJson } from './codec';
import { isJsError, JsCodes } from './jetstream-codes';
import { storageFullFrom } from './storage-full';
import { EVENTS_STREAM } from './subjects';

/** The subject already holds a message newer than the caller expected (JetStream error 10071). */
export class AppendConflict extends Error {
  constructor(readonly subject: string) {
    super(`append conflict on ${subject}`);
    this.name = 'AppendConflict';
  }
}

export interface Appended {
  seq: number;
  /** True when JetStream recognised the Nats-Msg-Id as a retry of an earlier append. */
  duplicate: boolean;
  /** The size of the event as published. */
  bytes: number;
}

export interface StoredEvent {
  seq: number;
  event: unknown;
}

function payloadTooLargeFrom(err: unknown): PayloadTooLarge | undefined {
  if (!/max.?payload|maximum payload|message size exceeds/i.test(String((err as Error).message))) return undefined;
  return new PayloadTooLarge('message: larger than the event log accepts', 'message_too_large');
}

export class EventLog {
  readonly js: JetStreamClient;
  private jsmPromise: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream = EVENTS_STREAM,
  ) {
    // Short, so a write that hit a failing node is retried (idempotently, by Nats-Msg-Id) well within the
    // proxy's retry budget.
    this.js = jetstream(nc, { timeout: 4_000 });
  }

  /**
   * Appends `event` to `subject` if the subject's last sequence is still `expectedLastSubjectSeq`
   * (0: the subject must be empty). `msgId` makes a retry of the same append idempotent.
   */
  async append(subject: string, event: unknown, opts: { expectedLastSubjectSeq?: number; msgId?: string } = {}): Promise<Appended> {
    const data = encodeJson(event);
    try {
      const ack = await this.js.publish(subject, data, {
        msgID: opts.msgId,
        expect: opts.expectedLastSubjectSeq === undefined ? undefined : { lastSubjectSequence: opts.expectedLastSubjectSeq },
      });
      return { seq: ack.seq, duplicate: ack.duplicate, bytes: data.length };
    } catch (err) {
      if (isJsError(err, JsCodes.StreamWrongLastSequence)) throw new AppendConflict(subject);
      throw storageFullFrom(err, this.stream) ?? payloadTooLargeFrom(err) ?? err;
    }
  }

  /** The newest event on one subject, read straight from the stream (not from a projection). */
  async lastOn(subject: string): Promise<StoredEvent | null> {
    const jsm = await this.manager();
    try {
      const msg = await jsm.streams.getMessage(this.stream, { last_by_subj: subject });
      return msg ? { seq: msg.seq, event: decodeJson(msg.data) } : null;
    } catch (err) {
      if (isJsError(err, JsCodes.NoMessageFound)) return null; // no message found
      throw err;
    }
  }

  /**
   * Physically removes the events at these stream sequences from the live log; returns how many were still
   * there. By sequence, never by a filtered purge: nats-server 2.9 moves every consumer of the stream past a
   * filtered purge's first remaining match (to the end of the stream when none remains), and a reader that
   * was behind — a replica replaying, the audit copier — silently lost everything in between.
   */
  async remove(seqs: Iterable<number>): Promise<number> {
    const jsm = await this.manager();
    const removed = await Promise.all(
      [...new Set(seqs)].map((seq) =>
        jsm.streams.deleteMessage(this.stream, seq, false).catch((err: unknown) => {
          if (isJsError(err, JsCodes.SequenceNotFound)) return false; // removed before
          throw err;
        }),
      ),
    );
    return removed.filter(Boolean).length;
  }

  private manager(): Promise<JetStreamManager> {
    this.jsmPromise ??= jetstreamManager(this.nc);
    return this.jsmPromise;
  }
}
