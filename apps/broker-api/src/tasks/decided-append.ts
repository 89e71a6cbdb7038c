/**
 * Read → decide → append, and again when the append conflicts: the append carries the subject sequence the
 * decision was made from (JetStream's expected-last-subject-sequence), so of two replicas writing one subject
 * only one wins and the other decides again on what the winner wrote.
 */
import { Conflict, parseLogEvent, type Decision, type Stored } from '@beamline/domain';
import { AppendConflict, type Appended, type EventLog, type StoredEvent } from '@beamline/nats';
import { appendDuration } from '../monitoring/broker-metrics';

const MAX_ATTEMPTS = 5;

export interface DecidedAppend<E> {
  subject: string;
  /** The decision on what the subject holds (undefined: nothing); may throw the domain's refusal. */
  decide: (prior: StoredEvent | undefined) => Decision<E>;
  /** JetStream's de-duplication id: a retried append that already landed is acknowledged, not stored twice. */
  msgId?: string;
  /** Decide the first time as if the subject were empty, without reading it: a new id costs no read. */
  assumeEmpty?: boolean;
  /** Said when every attempt met another writer. */
  contention: string;
}

export type AppendOutcome = { kind: 'appended'; appended: Appended } | { kind: 'already'; seq: number };

export async function appendDecided<E>(log: EventLog, write: DecidedAppend<E>): Promise<AppendOutcome> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const prior = attempt === 0 && write.assumeEmpty ? undefined : ((await log.lastOn(write.subject)) ?? undefined);
    const decision = write.decide(prior);
    if (decision.kind === 'already') return decision;
    const timer = appendDuration.startTimer();
    try {
      const appended = await log.append(write.subject, decision.event, { expectedLastSubjectSeq: decision.expectedLastSubjectSeq, msgId: write.msgId });
      timer({ outcome: 'appended' });
      return { kind: 'appended', appended };
    } catch (err) {
      timer({ outcome: err instanceof AppendConflict ? 'conflict' : 'failed' });
      if (!(err instanceof AppendConflict)) throw err;
    }
  }
  throw new Conflict(write.contention, 'write_contention');
}

/** The event the log holds on a subject of one kind; anything else there is a broken log, not a client's error. */
export function asStored<E extends { type: string }>(stored: StoredEvent, type: E['type']): Stored<E> {
  const event = parseLogEvent(stored.event);
  if (event.type !== type) throw new Error(`event #${stored.seq}: expected ${type}, found ${event.type}`);
  return { seq: stored.seq, event: event as unknown as E };
}
