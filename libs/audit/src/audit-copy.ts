/**
 * Copies every BEAM_EVENTS event, in order, to BEAM_AUDIT under a subject naming its kind (subjects.auditCopy;
 * the original subject travels in `Beam-Origin-Subject`), stamped with its BEAM_EVENTS sequence (`Beam-Origin-Seq`: the watermark the expiry sweeper waits for before it purges).
 * The copy carries none of the original's expectation headers (see auditStreamConfig for why JetStream's
 * own sourcing cannot be used on nats-server 2.9).
 *
 * Several copies are in flight at once (one acknowledgement round trip per copy could not keep up with
 * the brokers' write rate), yet BEAM_AUDIT never gets a gap: every copy is published with the BEAM_AUDIT
 * sequence it must follow (`Nats-Expected-Last-Sequence`), the position of the copy before it. If one copy
 * fails, every later copy in flight is refused by the server, because its predecessor is not there; the
 * run stops, waits for what is in flight, and the next run resumes from the watermark re-read then.
 *
 * A copy that landed although its publisher saw a failure (the acknowledgement was lost) is never stored
 * twice: a retry carries the same `Nats-Msg-Id` (`ev-<sequence>`), and nats-server 2.9.10 checks that
 * before the expected sequence and answers "duplicate" with the earlier copy's sequence. The retry counts
 * as done only if that earlier copy sits exactly where this one belongs; a server that checked the
 * expected sequence first would refuse the retry instead, and the next run would find the copy under the
 * watermark. Either way the copies stay one per event, in order, without a gap.
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { AUDIT_ORIGIN_SEQ_HEADER, AUDIT_ORIGIN_SUBJECT_HEADER, EVENTS_STREAM, readStream, subjects, type StreamMessage } from '@beamline/nats';
import { CopyWindow, type CopyWindowLimits } from './copy-window';
import { auditPosition, type AuditPosition } from './source-watermark';

export type { CopyWindowLimits } from './copy-window';

/** A few hundred small copies per round trip; at most two of the largest events (~28.5 MB each) at once. */
export const DEFAULT_COPY_WINDOW: CopyWindowLimits = { maxCopies: 256, maxBytes: 64 * 1024 * 1024 };

/** The server stored (or had stored) a copy somewhere other than right after its predecessor. */
export class CopyOutOfPlace extends Error {
  constructor(
    readonly originSeq: number,
    readonly storedAt: number,
    readonly expectedAt: number,
  ) {
    super(`the copy of BEAM_EVENTS #${originSeq} is BEAM_AUDIT #${storedAt}, not #${expectedAt}`);
    this.name = 'CopyOutOfPlace';
  }
}

export interface AuditCopyOptions {
  /** How many copies, and how many bytes of them, may be in flight (default DEFAULT_COPY_WINDOW). */
  window?: CopyWindowLimits;
  /** Told when reading BEAM_EVENTS starts over after a failure (see readStream). */
  onReadRestart?: (err: unknown) => void;
}

export class AuditCopyPipeline {
  private readonly js: JetStreamClient;
  private readonly limits: CopyWindowLimits;

  constructor(
    private readonly nc: NatsConnection,
    private readonly options: AuditCopyOptions = {},
  ) {
    this.js = jetstream(nc);
    this.limits = options.window ?? DEFAULT_COPY_WINDOW;
  }

  /**
   * Copies every event after the audit watermark until `signal` aborts. Resolves false at once when there
   * is no BEAM_AUDIT to copy into. Rejects when a copy failed, after every copy in flight has settled.
   */
  async copyUntil(signal: AbortSignal): Promise<boolean> {
    const position = await auditPosition(await jetstreamManager(this.nc));
    if (!position) return false;
    await this.copyFrom(position, signal);
    return true;
  }

  /** Copies the events after `position.watermark`, the first one to land right after `position.lastSeq`. */
  async copyFrom(position: AuditPosition, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return; // its abort event has fired already and would never reach `stop`
    const stop = new AbortController();
    const forward = (): void => stop.abort();
    signal.addEventListener('abort', forward, { once: true });
    const window = new CopyWindow(this.limits);
    let lastSeq = position.lastSeq;
    try {
      const events = readStream(this.nc, EVENTS_STREAM, {
        filterSubject: subjects.allEvents,
        startSeq: position.watermark + 1,
        follow: true,
        signal: stop.signal,
        onRestart: this.options.onReadRestart,
      });
      for await (const event of events) {
        await window.room(event.data.length, stop.signal);
        if (window.failure || stop.signal.aborted) break;
        window.add(event.data.length, this.copy(event, lastSeq++), () => stop.abort());
      }
    } finally {
      signal.removeEventListener('abort', forward);
      await window.settled();
    }
    if (window.failure) throw window.failure.err;
  }

  private async copy(event: StreamMessage, expectedLastSeq: number): Promise<void> {
    const h = headers();
    h.set(AUDIT_ORIGIN_SEQ_HEADER, String(event.seq));
    h.set(AUDIT_ORIGIN_SUBJECT_HEADER, event.subject);
    const ack = await this.js.publish(subjects.auditCopy(event.subject), event.data, {
      msgID: `ev-${event.seq}`,
      headers: h,
      expect: { lastSequence: expectedLastSeq },
    });
    if (ack.seq !== expectedLastSeq + 1) throw new CopyOutOfPlace(event.seq, ack.seq, expectedLastSeq + 1);
  }
}
