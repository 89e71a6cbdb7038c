/** Turns JetStream's refusals of a write for lack of space into the domain's StorageFull (507), naming the store. */
import { JetStreamApiError } from '@nats-io/jetstream';
import { StorageFull } from '@beamline/domain';

/**
 * nats-server 2.9.10 answers a publish to a discard-new stream (or KV bucket) at its `max_bytes` with 10077
 * "maximum bytes exceeded", and any write once the server's whole `max_file_store` is used with 10023
 * "insufficient resources" (both with status 503, which would otherwise read as "briefly unavailable").
 */
export function storageFullFrom(err: unknown, store: string): StorageFull | undefined {
  if (!(err instanceof JetStreamApiError)) return undefined;
  if (err.code === 10077 && /maximum bytes/i.test(err.message)) {
    return new StorageFull(store, `${store} is full (JetStream: ${err.message}); retry once space frees up`);
  }
  if (err.code === 10023) {
    return new StorageFull(
      store,
      `${store}: the NATS server's JetStream store is full (JetStream: ${err.message}); a stream without a byte limit may be using the space reserved for Beamline's`,
    );
  }
  return undefined;
}
