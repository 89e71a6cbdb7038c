/** Folding BEAM_PKI as it is stored into a {@link PkiDirectory} (the CLI and tests; services follow the stream). */
import { isStreamNotFound, PKI_STREAM, readStream, subjects } from '@beamline/nats';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { PkiDirectory, type DirectoryListing } from './directory';

/** Reads every BEAM_PKI message into a {@link PkiDirectory}; `ignored` lists what was not honoured and why. */
export async function loadDirectory(
  jsOrNc: JetStreamClient | NatsConnection,
  opts: { rootCertPem?: string } = {},
): Promise<{ directory: PkiDirectory; ignored: { seq: number; subject: string; reason: string }[] }> {
  const directory = new PkiDirectory(opts.rootCertPem);
  const ignored: { seq: number; subject: string; reason: string }[] = [];
  try {
    for await (const m of readStream(jsOrNc, PKI_STREAM, { filterSubject: subjects.allPki, follow: false })) {
      const result = directory.apply(m.subject, m.data);
      if (!result.accepted) ignored.push({ seq: m.seq, subject: m.subject, reason: result.reason });
    }
  } catch (err) {
    if (!isStreamNotFound(err)) throw err; // no stream: an empty directory
  }
  return { directory, ignored };
}

/** The directory as a list of certificates with their status (see {@link PkiDirectory.listing}). */
export async function readDirectory(jsOrNc: JetStreamClient | NatsConnection, opts: { rootCertPem?: string; now?: number } = {}): Promise<DirectoryListing[]> {
  const { directory } = await loadDirectory(jsOrNc, opts);
  return directory.listing(opts.now);
}
