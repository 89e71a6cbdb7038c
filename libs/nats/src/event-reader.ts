/**
 * Reads stored events of BEAM_EVENTS by sequence (JetStream direct gets), for answers that stream the
 * messages a store reply points at. Many small events are fetched concurrently; big ones are bounded by
 * bytes in flight, so a listing of 16 MB tasks holds one or two of them in memory at a time, and the
 * connection never receives more at once than nats-server lets a client fall behind by.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { DirectGets } from './direct-gets';
import type { MessageRef } from './store-protocol';
import { EVENTS_STREAM } from './subjects';

export interface StoredMessage {
  seq: number;
  /** The stored event, as appended (JSON). */
  data: Uint8Array;
}

export interface ReadLimits {
  /** Gets in flight at most (many small events). */
  maxInFlight: number;
  /** Bytes in flight at most, by the sizes the refs announce; one event is always allowed. */
  maxBytesInFlight: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = { maxInFlight: 128, maxBytesInFlight: 16 * 1024 * 1024 };

export class EventReader {
  private jsm: Promise<JetStreamManager> | undefined;
  private readonly direct: DirectGets;

  constructor(private readonly nc: NatsConnection, private readonly stream = EVENTS_STREAM) {
    this.direct = new DirectGets(nc, stream);
  }

  /** The stored event at `seq`, or null when it is gone (purged at expiry) or never existed. */
  async one(seq: number): Promise<StoredMessage | null> {
    const direct = await this.direct.get(seq);
    if (direct) return { seq, data: direct };
    // A direct get may be answered by a replica that has not stored `seq` yet (R3): ask the leader before
    // concluding the message is gone.
    const jsm = await this.manager();
    const fromLeader = await jsm.streams.getMessage(this.stream, { seq });
    return fromLeader ? { seq, data: fromLeader.data } : null;
  }

  /**
   * Yields the stored event of every ref, in the order given, skipping refs whose message is gone. Reads
   * ahead within `limits`, and never further than the consumer has taken: a slow HTTP client slows the reads.
   */
  async *many(refs: readonly MessageRef[], limits: ReadLimits = DEFAULT_READ_LIMITS): AsyncGenerator<StoredMessage> {
    const pending: { ref: MessageRef; result: Promise<StoredMessage | null> }[] = [];
    let next = 0;
    let bytesInFlight = 0;
    const fill = (): void => {
      while (next < refs.length && pending.length < limits.maxInFlight) {
        const ref = refs[next];
        if (pending.length > 0 && bytesInFlight + ref.bytes > limits.maxBytesInFlight) return;
        bytesInFlight += ref.bytes;
        const result = this.one(ref.seq);
        result.catch(() => undefined); // observed when its turn comes; never an unhandled rejection meanwhile
        pending.push({ ref, result });
        next++;
      }
    };
    try {
      fill();
      while (pending.length > 0) {
        const head = pending[0];
        const stored = await head.result;
        pending.shift();
        bytesInFlight -= head.ref.bytes;
        // Refill in bursts: requests issued together leave in one socket write, one at a time they cost a
        // write (a syscall) each — the largest single cost of a long listing.
        if (pending.length <= limits.maxInFlight / 2 && bytesInFlight <= limits.maxBytesInFlight / 2) fill();
        if (stored) yield stored;
      }
    } finally {
      next = refs.length; // a consumer that stops early starts no more reads
    }
  }

  private manager(): Promise<JetStreamManager> {
    this.jsm ??= jetstreamManager(this.nc).catch((err: unknown) => {
      this.jsm = undefined;
      throw err;
    });
    return this.jsm;
  }
}
