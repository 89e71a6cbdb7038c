/**
 * The audit copier's own NATS connection and the pipeline it runs on it. Its own, because its pulls from
 * BEAM_EVENTS may bring ~32 MiB at a time (nats-server cuts a connection with more than 64 MiB queued for it),
 * and so ~28.5 MB copies never queue ahead of query replies on the process's main connection.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats, type NatsTarget } from '@beamline/nats';
import { AuditCopyPipeline } from './audit-copy';

export class AuditCopySession {
  private nc: NatsConnection | undefined;

  constructor(
    private readonly servers: NatsTarget,
    private readonly name: string,
  ) {}

  /** Copies until `signal` aborts or a copy fails (then it throws; the caller resumes later from the watermark). */
  async copyUntil(signal: AbortSignal, onReadRestart: (err: unknown) => void): Promise<void> {
    this.nc ??= await connectNats(this.servers, this.name);
    await new AuditCopyPipeline(this.nc, { onReadRestart }).copyUntil(signal);
  }

  async close(): Promise<void> {
    const nc = this.nc;
    if (nc && !nc.isClosed()) await nc.drain().catch(() => nc.close());
  }
}
