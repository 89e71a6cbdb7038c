/**
 * Reads stored events of BEAM_EVENTS by sequence (JetStream direct gets), for answers that stream the
 * messages a store reply points at.
 *
 * - Reads are bounded twice: per answer (a window that reads ahead of what the HTTP client has taken, so a
 *   slow client slows the reads) and per process (every answer together: gets and bytes in flight), so a
 *   thousand answers at once queue here rather than swamp nats-server with requests that then time out.
 * - A stored event never changes (a sequence names one message for the stream's life), so small events are
 *   kept in a byte-bounded cache and concurrent reads of one sequence share one get: when a write wakes a
 *   thousand long-polls of one app, their thousand identical listings cost one get per task.
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { LRUCache } from 'lru-cache';
import { DirectGets } from './direct-gets';
import { ByteGate } from './byte-gate';
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

/** One answer's read-ahead. */
export const DEFAULT_READ_LIMITS: ReadLimits = { maxInFlight: 128, maxBytesInFlight: 16 * 1024 * 1024 };
/** All answers of this process together: about what nats-server serves without letting requests time out. */
const PROCESS_LIMITS: ReadLimits = { maxInFlight: 512, maxBytesInFlight: 32 * 1024 * 1024 };
/** Kept events: the recent small ones (tasks and results of everyday size), never a big body. */
const CACHE_BYTES = 16 * 1024 * 1024;
const CACHE_MAX_EVENT_BYTES = 256 * 1024;

export class EventReader {
  private jsm: Promise<JetStreamManager> | undefined;
  private readonly direct: DirectGets;
  private readonly gate = new ByteGate(PROCESS_LIMITS.maxInFlight, PROCESS_LIMITS.maxBytesInFlight);
  private readonly cache = new LRUCache<number, Uint8Array>({ maxSize: CACHE_BYTES, sizeCalculation: (data) => Math.max(1, data.length) });
  private readonly reading = new Map<number, Promise<StoredMessage | null>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly stream = EVENTS_STREAM,
  ) {
    this.direct = new DirectGets(nc, stream);
  }

  /** The stored event at `seq` (announced as `bytes` long), or null when it is gone (purged at expiry). */
  one(seq: number, bytes = 0): Promise<StoredMessage | null> {
    const cached = this.cache.get(seq);
    if (cached) return Promise.resolve({ seq, data: cached });
    const shared = this.reading.get(seq);
    if (shared) return shared;
    const read = this.gate.run(bytes, () => this.fetch(seq)).finally(() => this.reading.delete(seq));
    this.reading.set(seq, read);
    return read;
  }

  private async fetch(seq: number): Promise<StoredMessage | null> {
    let data = await this.direct.get(seq);
    // A direct get may be answered by a replica that has not stored `seq` yet (R3): ask the leader before
    // concluding the message is gone.
    if (!data) data = (await (await this.manager()).streams.getMessage(this.stream, { seq }))?.data ?? null;
    if (!data) return null;
    if (data.length <= CACHE_MAX_EVENT_BYTES) this.cache.set(seq, data);
    return { seq, data };
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
        const result = this.one(ref.seq, ref.bytes);
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
