/**
 * The BEAM_PKI stream as the CA's publishers see it (`beamline pki sign` and `revoke`, the dev network). It
 * stores and fetches signed envelopes (pki-events.ts) and nothing more: signing, and deciding whether an event
 * is already published, live in `@beamline/pki` (publish.ts).
 */
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { decodePkiEnvelope, encodePkiEnvelope, pkiEventSubject } from './pki-events';
import { type PkiEvent } from '@beamline/domain';
import { DEFAULT_STREAM_OPTIONS, ensurePkiStream, type StreamOptions } from './streams';
import { PKI_STREAM } from './subjects';

/** A stored envelope's compact JWS (not verified) and its stream sequence. */
export interface StoredPkiJws {
  seq: number;
  jws: string;
}

/** `duplicate`: the stream already held a message with the same Nats-Msg-Id, so nothing was stored. */
export interface PkiAppendAck {
  seq: number;
  duplicate: boolean;
}

export class PkiLog {
  constructor(private readonly js: JetStreamClient) {}

  /**
   * The log on `nc`, after creating BEAM_PKI if it is missing: a CA's tool may be the first to touch a new
   * NATS. Only BEAM_PKI, which is all the CA's NATS user may create (infra/nats/auth.conf). With the default
   * options an existing stream is left as it is (see StreamOptions.reconcile).
   */
  static async open(nc: NatsConnection, opts: StreamOptions = DEFAULT_STREAM_OPTIONS): Promise<PkiLog> {
    await ensurePkiStream(await jetstreamManager(nc), opts);
    return new PkiLog(jetstream(nc));
  }

  /** The last message on `subject`, if it is an envelope. */
  async last(subject: string): Promise<StoredPkiJws | undefined> {
    const jsm = await this.js.jetstreamManager();
    const msg = await jsm.streams.getMessage(PKI_STREAM, { last_by_subj: subject });
    if (!msg) return undefined;
    const jws = decodePkiEnvelope(msg.data);
    if (!jws) return undefined;
    return { seq: msg.seq, jws };
  }

  /**
   * Stores the envelope of `jws` on the subject `event` belongs on. A fixed `msgID` per event makes a retry
   * inside the stream's duplicate window store nothing.
   */
  async append(event: PkiEvent, jws: string, msgID: string): Promise<PkiAppendAck> {
    const ack = await this.js.publish(pkiEventSubject(event), encodePkiEnvelope(jws), { msgID });
    return { seq: ack.seq, duplicate: ack.duplicate };
  }
}
