/** Turns JetStream's refusals of a write for lack of space into the domain's StorageFull (507), naming the store. */
import { StorageFull } from '@beamline/domain';
import { isJsError, JsCodes } from './jetstream-codes';

/**
 * nats-server 2.9.10 answers a publish to a discard-new stream (or KV bucket) at its `max_bytes` or `max_msgs`
 * with 10077 "maximum bytes exceeded" or "maximum messages exceeded", and any write once the server's whole `max_file_store` is used with 10023
 * "insufficient resources" (both with status 503, which would otherwise read as "briefly unavailable").
 */
export function storageFullFrom(err: unknown, store: string): StorageFull | undefined {
  if (isJsError(err, JsCodes.StreamStoreFailed, /maximum (bytes|messages)/i)) {
    return new StorageFull(store, `${store} is full (JetStream: ${err.message}); retry once space frees up`);
  }
  if (isJsError(err, JsCodes.InsufficientResources)) {
    return new StorageFull(
      store,
      `${store}: the NATS server's JetStream store is full (JetStream: ${err.message}); a stream without a byte limit may be using the space reserved for Beamline's`,
    );
  }
  return undefined;
}
