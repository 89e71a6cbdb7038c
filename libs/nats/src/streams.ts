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
import { EVENTS_STREAM, PKI_STREAM, subjects } from './subjects';

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
}

export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  replicas: 1,
  maxTtlMs: 7 * 24 * 3_600_000,
  duplicateWindowMs: 2 * 60_000,
  maxMessageBytes: 32 * 1024 * 1024,
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

/** Creates the streams, or brings an existing stream's configuration up to date. */
export async function ensureStreams(jsm: JetStreamManager, opts: StreamOptions = DEFAULT_STREAM_OPTIONS): Promise<void> {
  for (const config of [eventsStreamConfig(opts), pkiStreamConfig(opts)]) {
    await ensureStream(jsm, config);
  }
}

async function ensureStream(jsm: JetStreamManager, config: StreamSpec): Promise<void> {
  const name = config.name;
  try {
    await jsm.streams.info(name);
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
