/**
 * The one place that knows JetStream's API error codes. The client exports a few (JetStreamApiCodes); the
 * others are nats-server's (server/errors.json, as 2.9.10 answers them).
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream';

export const JsCodes = {
  ...JetStreamApiCodes,
  /** "no suitable peers for placement" (on a cluster, also for lack of storage). */
  ClusterNoPeers: 10005,
  /** "insufficient resources": the server's whole JetStream store is used. */
  InsufficientResources: 10023,
  /** "sequence not found" when deleting a message by sequence. */
  SequenceNotFound: 10043,
  /** "insufficient storage resources available" when reserving a stream's max_bytes. */
  StorageResourcesExceeded: 10047,
  /** "maximum bytes exceeded" or "maximum messages exceeded" on a discard-new stream. */
  StreamStoreFailed: 10077,
} as const;

/** Whether `err` is JetStream's refusal with `code` (and, when given, a message matching `message`). */
export function isJsError(err: unknown, code: number, message?: RegExp): err is JetStreamApiError {
  return err instanceof JetStreamApiError && err.code === code && (message === undefined || message.test(err.message));
}
