/** The one place that knows Beamline's JetStream stream configurations. */
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { isReservationRefused, reservationError, shrinkError, storageBudget, type BudgetEntry } from './storage-budget';
import { isJsError, JsCodes } from './jetstream-codes';
import { DEFAULT_STORAGE_SETTINGS, type StorageLimits, type StorageSettings } from './storage-settings';
import { AUDIT_STREAM, BLOBS_BUCKET, BLOBS_STREAM, EVENTS_STREAM, PKI_STREAM, subjects } from './subjects';

/** A stream configuration with its name (what `streams.add` requires). */
export type StreamSpec = Partial<StreamConfig> & { name: string };

export interface StreamOptions {
  /** 1 for a single node, 3 on a production cluster. */
  replicas: number;
  /** The broker's maximum task TTL; the event log keeps messages a margin longer. */
  maxTtlMs: number;
  /** Window in which a retried publish with the same Nats-Msg-Id is recognised as a duplicate. */
  duplicateWindowMs: number;
  /** Largest message the log accepts (a sealed 10 MB body plus its signature and envelope). */
  maxMessageBytes: number;
  /** How long BEAM_AUDIT keeps every event, also of tasks long expired and purged from BEAM_EVENTS. */
  auditRetentionMs: number;
  /** Byte limits: every stream has one, so JetStream reserves its space (storage-budget.ts). */
  limits: StorageLimits;
  /**
   * Bring existing streams' configuration up to these options (the brokers do; one-off tools such as the
   * CLI only create what is missing, so they never change a cluster's replica count).
   */
  reconcile: boolean;
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  replicas: 1,
  maxTtlMs: 7 * 24 * 3_600_000,
  duplicateWindowMs: 2 * 60_000,
  maxMessageBytes: 32 * 1024 * 1024,
  auditRetentionMs: DEFAULT_STORAGE_SETTINGS.auditRetentionMs,
  limits: DEFAULT_STORAGE_SETTINGS.limits,
  reconcile: false,
};

const EXPIRY_MARGIN_MS = 24 * 3_600_000;

/**
 * Discard new: at its byte limit the log refuses writes (JetStream error 10077 "maximum bytes exceeded", a
 * 507 for the client) rather than deleting acknowledged events. broker-api stops clients' writes earlier
 * (CLIENT_WRITES_STOP_AT) so the expiry leader can still record TaskExpired and purge, which frees space.
 */
export function eventsStreamConfig(opts: StreamOptions): StreamSpec {
  return {
    name: EVENTS_STREAM,
    subjects: [subjects.allEvents],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: opts.limits.eventsMaxBytes,
    num_replicas: opts.replicas,
    max_age: nanos(opts.maxTtlMs + EXPIRY_MARGIN_MS),
    duplicate_window: nanos(opts.duplicateWindowMs),
    max_msg_size: opts.maxMessageBytes,
    allow_direct: true,
  };
}

/** Discard new: a full directory refuses a publication; it must never drop a certificate or a revocation. */
export function pkiStreamConfig(opts: StreamOptions): StreamSpec {
  return {
    name: PKI_STREAM,
    subjects: [subjects.allPki],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: opts.limits.pkiMaxBytes,
    num_replicas: opts.replicas,
    max_age: 0,
    duplicate_window: nanos(opts.duplicateWindowMs),
    allow_direct: true,
  };
}

/**
 * BEAM_AUDIT keeps every event of BEAM_EVENTS for the audit retention, so operators can replay and verify
 * events after their tasks expired and were purged from the live log. The expiry leader copies each event to
 * a subject naming its kind, `audit.task.created` and the like (see subjects.auditCopy and broker-store's AuditCopier). Neither JetStream sourcing nor a mirror will do on
 * nats-server 2.9: both re-check a copied message's `Nats-Expected-Last-Subject-Sequence` against the copy's
 * own history, and stall forever at the first replaced result or, after a purge, a reused task id.
 * BEAM_PKI has no age limit and is its own audit trail.
 *
 * Retention: the last AUDIT_RETENTION, at most AUDIT_MAX_BYTES; at the byte limit the oldest copies go first
 * (discard old). So the copier is never refused, and the expiry leader, which purges a task from BEAM_EVENTS
 * only once its copy exists, is never blocked by a full audit trail.
 */
export function auditStreamConfig(opts: StreamOptions): StreamSpec {
  return {
    name: AUDIT_STREAM,
    subjects: [subjects.allAudit],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_bytes: opts.limits.auditMaxBytes,
    num_replicas: opts.replicas,
    max_age: nanos(opts.auditRetentionMs),
    max_msg_size: opts.maxMessageBytes,
    duplicate_window: nanos(opts.duplicateWindowMs),
  };
}

/**
 * The stream behind the object store beam-blobs, configured here like every other stream (the object store
 * client of @nats-io/obj only opens it): chunks on `$O.<bucket>.C.<object nuid>`, each object's description on
 * `$O.<bucket>.M.<name>`, rolled up per name. Discard new: a full store refuses an upload (507) rather than
 * dropping a body a live message refers to. Blobs outlive their tasks by at most the log's own margin; the
 * expiry leader deletes them with their tasks.
 */
export function blobsStreamConfig(opts: StreamOptions): StreamSpec {
  return {
    name: BLOBS_STREAM,
    subjects: [`$O.${BLOBS_BUCKET}.C.>`, `$O.${BLOBS_BUCKET}.M.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.New,
    max_bytes: opts.limits.blobsMaxBytes,
    num_replicas: opts.replicas,
    max_age: nanos(opts.maxTtlMs + EXPIRY_MARGIN_MS),
    duplicate_window: nanos(opts.duplicateWindowMs),
    allow_rollup_hdrs: true,
    allow_direct: true,
  };
}

/**
 * Creates the streams that are missing; with `reconcile`, also brings existing ones up to `opts`. Throws an
 * error naming the settings when nats-server cannot reserve the limits, or when a lowered limit would make
 * JetStream delete stored messages.
 */
export async function ensureStreams(jsm: JetStreamManager, opts: StreamOptions = DEFAULT_STREAM_OPTIONS): Promise<void> {
  await ensureStreamsOf(jsm, opts, [eventsStreamConfig(opts), pkiStreamConfig(opts), auditStreamConfig(opts), blobsStreamConfig(opts)]);
}

/**
 * The same for BEAM_PKI alone: what the CA's tools need, and all that the CA's NATS user may create
 * (infra/nats/auth.conf); the brokers create the other streams when they start.
 */
export async function ensurePkiStream(jsm: JetStreamManager, opts: StreamOptions = DEFAULT_STREAM_OPTIONS): Promise<void> {
  await ensureStreamsOf(jsm, opts, [pkiStreamConfig(opts)]);
}

async function ensureStreamsOf(jsm: JetStreamManager, opts: StreamOptions, configs: StreamSpec[]): Promise<void> {
  const budget = storageBudget(opts.limits);
  for (const config of configs) {
    const entry = budget.find((e) => e.store === config.name) as BudgetEntry;
    try {
      await ensureStream(jsm, config, opts.reconcile, entry);
    } catch (err) {
      throw isReservationRefused(err) ? reservationError(config.name, opts.limits, err) : err;
    }
  }
}

/** The options the broker components reconcile the streams to (from the shared storage settings). */
export function brokerStreamOptions(settings: StorageSettings): StreamOptions {
  return {
    ...DEFAULT_STREAM_OPTIONS,
    replicas: settings.replicas,
    maxTtlMs: settings.maxTtlMs,
    auditRetentionMs: settings.auditRetentionMs,
    limits: settings.limits,
    reconcile: true,
  };
}

async function ensureStream(jsm: JetStreamManager, config: StreamSpec, reconcile: boolean, entry: BudgetEntry): Promise<void> {
  const name = config.name;
  let usedBytes = 0;
  try {
    usedBytes = (await jsm.streams.info(name)).state.bytes;
    if (!reconcile) return;
  } catch (err) {
    if (isStreamNotFound(err)) {
      try {
        await jsm.streams.add(config);
        return;
      } catch (addErr) {
        // Another replica created it between our info and add; fall through to update.
        if (!(addErr instanceof JetStreamApiError) || isReservationRefused(addErr)) throw addErr;
        usedBytes = (await jsm.streams.info(name)).state.bytes;
      }
    } else {
      throw err;
    }
  }
  assertNoShrinkBelowUse(entry, usedBytes);
  await jsm.streams.update(name, config);
}

/**
 * JetStream applies a lowered max_bytes at once, deleting the oldest messages to fit even on a discard-new
 * stream (nats-server 2.9.10). For a store that refuses when full, those are acknowledged messages: refuse
 * the change instead. A discard-old store (BEAM_AUDIT) drops its oldest copies, as its policy says.
 */
export function assertNoShrinkBelowUse(entry: BudgetEntry, usedBytes: number): void {
  if (entry.whenFull === 'refuse' && entry.maxBytes < usedBytes) throw shrinkError(entry, usedBytes);
}

function isStreamNotFound(err: unknown): boolean {
  return isJsError(err, JsCodes.StreamNotFound);
}
