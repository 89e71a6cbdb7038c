/**
 * Start-up reconciliation of everything Beamline stores in JetStream: the streams and the buckets a component
 * uses, each with its byte limit. A limit nats-server cannot reserve stops start-up with an error naming the
 * settings (not a hang, and not a failure on the first request).
 */
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { bucketStream, openBucket, type BucketSpec } from './buckets';
import { isReservationRefused, reservationError, storageBudget, type BudgetEntry } from './storage-budget';
import type { StorageSettings } from './storage-settings';
import { assertNoShrinkBelowUse, brokerStreamOptions, ensureStreams } from './streams';
import { isJsError, JsCodes } from './jetstream-codes';
import { retryTransient } from './startup-retry';
import { LEGACY_SECRETS_BUCKET } from './subjects';

/** The start-up reconciliation as a port: what an app's StorageSetup calls in onModuleInit. */
export class StorageProvisioner {
  constructor(private readonly nc: NatsConnection) {}

  /**
   * Creates or updates the streams and `buckets`. Transient NATS failures (a timeout while a just-created
   * replicated stream elects its leader, no responders) are retried with a line through `log`.
   */
  ensure(settings: StorageSettings, buckets: readonly BucketSpec[], log: (line: string) => void = () => undefined): Promise<void> {
    return retryTransient('reconciling the streams and buckets', () => ensureStorage(this.nc, settings, buckets), { log });
  }

  /**
   * Deletes the bucket in which versions before issue 13 kept broker-api's session secret (created unless
   * SESSION_SECRET was set): anyone who could read NATS could read it. Resolves to whether there was one.
   */
  async removeLegacySecrets(): Promise<boolean> {
    const jsm = await jetstreamManager(this.nc);
    try {
      return await jsm.streams.delete(bucketStream(LEGACY_SECRETS_BUCKET));
    } catch (err) {
      if (isJsError(err, JsCodes.StreamNotFound)) return false;
      throw err;
    }
  }
}

export async function ensureStorage(nc: NatsConnection, settings: StorageSettings, buckets: readonly BucketSpec[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, brokerStreamOptions(settings));
  for (const spec of buckets) await ensureBucket(nc, jsm, spec, settings);
}

/** Creates the bucket if missing, then brings its limits, replicas and TTL up to `spec`. */
async function ensureBucket(nc: NatsConnection, jsm: JetStreamManager, spec: BucketSpec, settings: StorageSettings): Promise<void> {
  const store = bucketStream(spec.bucket);
  const entry: BudgetEntry = {
    ...(storageBudget(settings.limits).find((e) => e.store === store) ?? { store, setting: 'fixed', whenFull: 'refuse' }),
    maxBytes: spec.maxBytes,
  };
  try {
    await openBucket(nc, spec);
    const info = await jsm.streams.info(store);
    const maxAge = nanos(spec.ttlMs ?? 0);
    const c = info.config;
    const maxMsgs = spec.maxEntries ?? -1;
    if (c.max_bytes === spec.maxBytes && c.num_replicas === spec.replicas && c.max_age === maxAge && c.max_msgs === maxMsgs) return;
    assertNoShrinkBelowUse(entry, info.state.bytes);
    // JetStream refuses a duplicate window longer than max_age.
    const duplicateWindow = maxAge > 0 ? Math.min(c.duplicate_window, maxAge) : c.duplicate_window;
    await jsm.streams.update(store, {
      ...c,
      max_bytes: spec.maxBytes,
      max_msgs: maxMsgs,
      num_replicas: spec.replicas,
      max_age: maxAge,
      duplicate_window: duplicateWindow,
    });
  } catch (err) {
    throw isReservationRefused(err) ? reservationError(store, settings.limits, err) : err;
  }
}
