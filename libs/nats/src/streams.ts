/** The one place that knows Beamline's JetStream stream configurations. */
import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { AUDIT_STREAM, EVENTS_STREAM, PKI_STREAM, subjects } from './subjects';

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
  auditRetentionMs: 30 * 24 * 3_600_000,
  reconcile: false,
};

const EXPIRY_MARGIN_MS = 24 * 3_600_000;

export function eventsStreamConfig(opts: StreamOptions): StreamSpec {
  return {
    name: EVENTS_STREAM,
    subjects: [subjects.allEvents],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: opts.replicas,
    max_age: nanos(opts.maxTtlMs + EXPIRY_MARGIN_MS),
    duplicate_window: nanos(opts.duplicateWindowMs),
    max_msg_size: opts.maxMessageBytes,
    allow_direct: true,
  };
}

export function pkiStreamConfig(opts: StreamOptions): StreamSpec {
  return {
    name: PKI_STREAM,
    subjects: [subjects.allPki],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    num_replicas: opts.replicas,
    max_age: 0,
    duplicate_window: nanos(opts.duplicateWindowMs),
    allow_direct: true,
  };
}

/**
 * BEAM_AUDIT keeps every event of BEAM_EVENTS for the audit retention, so operators can replay and verify
 * events after their tasks expired and were purged from the live log. The expiry leader copies each event to
 * `audit.<subject>` (see broker-store's AuditCopier). Neither JetStream sourcing nor a mirror will do on
 * nats-server 2.9: both re-check a copied message's `Nats-Expected-Last-Subject-Sequence` against the copy's
 * own history, and stall forever at the first replaced result or, after a purge, a reused task id.
 * BEAM_PKI has no age limit and is its own audit trail.
 */
export function auditStreamConfig(opts: StreamOptions): StreamSpec {
  return {
    name: AUDIT_STREAM,
    subjects: [subjects.allAudit],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: opts.replicas,
    max_age: nanos(opts.auditRetentionMs),
    max_msg_size: opts.maxMessageBytes,
    duplicate_window: nanos(opts.duplicateWindowMs),
  };
}

/** Creates the streams that are missing; with `reconcile`, also brings existing ones up to `opts`. */
export async function ensureStreams(jsm: JetStreamManager, opts: StreamOptions = DEFAULT_STREAM_OPTIONS): Promise<void> {
  for (const config of [eventsStreamConfig(opts), pkiStreamConfig(opts), auditStreamConfig(opts)]) {
    await ensureStream(jsm, config, opts.reconcile);
  }
}

/** The options the broker components reconcile the streams to (from their `STREAM_REPLICAS`, `MAX_TTL`, `AUDIT_RETENTION`). */
export function brokerStreamOptions(settings: { replicas: number; maxTtlMs?: number; auditRetentionMs?: number }): StreamOptions {
  return {
    ...DEFAULT_STREAM_OPTIONS,
    replicas: settings.replicas,
    maxTtlMs: settings.maxTtlMs ?? DEFAULT_STREAM_OPTIONS.maxTtlMs,
    auditRetentionMs: settings.auditRetentionMs ?? DEFAULT_STREAM_OPTIONS.auditRetentionMs,
    reconcile: true,
  };
}

async function ensureStream(jsm: JetStreamManager, config: StreamSpec, reconcile: boolean): Promise<void> {
  const name = config.name;
  try {
    await jsm.streams.info(name);
    if (!reconcile) return;
  } catch (err) {
    if (isStreamNotFound(err)) {
      try {
        await jsm.streams.add(config);
        return;
      } catch (addErr) {
        // Another replica created it between our info and add; fall through to update.
        if (!(addErr instanceof JetStreamApiError)) throw addErr;
      }
    } else {
      throw err;
    }
  }
  await jsm.streams.update(name, config);
}

function isStreamNotFound(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === 10059;
}
