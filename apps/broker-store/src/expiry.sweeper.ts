/**
 * Physical expiry. Logical expiry needs nothing: a task is dead for every query the instant its TTL passes.
 * The sweeper then records TaskExpired (deduplicated per task generation, so several replicas sweeping at
 * once write it once) and removes the generation's events, TaskExpired included, keeping the live log as
 * small as the live work. It removes them by sequence (never by a filtered purge, see EventLog.remove), so
 * a task re-created under the same id is never touched and no reader of the log is moved.
 * Only the expiry leader (one replica, elected through a NATS KV lease) sweeps.
 *
 * No audit loss: the audit copier copies BEAM_EVENTS to BEAM_AUDIT asynchronously, in order and without a
 * gap, so the purge waits until the audit watermark has passed the TaskExpired just written (BEAM_AUDIT then
 * holds every earlier event of the task too); until then the purge is postponed to a later sweep. A purge
 * still pending when this replica stops is simply not done: the events stay in BEAM_EVENTS until its
 * max_age, nothing is lost.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  expiredTasks,
  filesToRemove,
  orphanedBlobs,
  referencedBlobs,
  type FileExpired,
  type StoredBlob,
  type TaskExpired,
  type TaskView,
} from '@beamline/domain';
import { AuditProgress, copyStateAt } from '@beamline/audit';
import { BlobStore, EventLog, subjects } from '@beamline/nats';
import { Leadership } from './leadership';
import { STORE_CONFIG, type StoreConfig } from './config';
import { ProjectionService } from './projection.service';
import { expirySweeps, tasksExpired } from './health/store-metrics';

@Injectable()
export class ExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Expiry');
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly done = new Set<string>();
  /** Files whose parts were deleted and whose FileExpired is written, until the projection applied it. */
  private readonly filesDone = new Set<string>();
  /** When the blob store was last searched for blobs nothing names. */
  private orphansCheckedAt = 0;

  /** Purges waiting for BEAM_AUDIT to copy the task's events, by generation. */
  private readonly pendingPurges = new Map<string, PendingPurge>();

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    @Inject(BlobStore) private readonly blobs: BlobStore,
    private readonly audit: AuditProgress,
    private readonly projection: ProjectionService,
    private readonly leadership: Leadership,
    @Inject(STORE_CONFIG) private readonly config: StoreConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.sweep(), this.config.sweepIntervalMs);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async sweep(): Promise<void> {
    if (this.running || !this.leadership.isLeader) return;
    this.running = true;
    try {
      await this.purgeAudited();
      const expired = expiredTasks(this.projection.state, Date.now());
      const generations = new Set(expired.map(generationOf));
      // Forget generations whose TaskExpired has been applied (the task left the views).
      for (const g of this.done) if (!generations.has(g)) this.done.delete(g);
      const due = expired.filter((task) => !this.done.has(generationOf(task)));
      // Appended side by side: one round trip per batch, not per task, keeps the sweep short under load.
      for (let i = 0; i < due.length; i += EXPIRE_BATCH) {
        const appended = await Promise.allSettled(due.slice(i, i + EXPIRE_BATCH).map((task) => this.expire(task)));
        const failed = appended.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
      }
      await this.purgeAudited();
      await this.removeFiles();
      await this.removeOrphanBlobs();
      expirySweeps.inc({ outcome: 'ok' });
    } catch (err) {
      expirySweeps.inc({ outcome: 'failed' });
      this.logger.warn(`sweep failed, will retry: ${String(err)}`);
    } finally {
      this.running = false;
    }
  }

  private async expire(task: TaskView): Promise<void> {
    const generation = generationOf(task);
    const event: TaskExpired = { type: 'TaskExpired', v: 1, taskId: task.taskId, expiredAt: task.expiresAt, from: task.from, to: task.to };
    const appended = await this.log.append(subjects.taskExpired(task.taskId), event, { msgId: `expired-${task.taskId}-${task.seq}` });
    this.done.add(generation);
    tasksExpired.inc();
    if (!this.pendingPurges.has(generation)) {
      this.pendingPurges.set(generation, {
        taskId: task.taskId,
        seqs: [...task.logSeqs, appended.seq],
        expiredSeq: appended.seq,
        blobs: task.blobs ?? [],
        since: Date.now(),
        warned: false,
      });
    }
  }

  /** Purges every pending aggregate whose events BEAM_AUDIT has copied; postpones the others. */
  private async purgeAudited(): Promise<void> {
    if (this.pendingPurges.size === 0) return;
    // One look at the watermark per sweep: BEAM_AUDIT holds every event up to it.
    const watermark = await this.audit.watermark();
    const audited: Array<[string, PendingPurge]> = [];
    for (const [generation, p] of this.pendingPurges) {
      const state = copyStateAt(watermark, p.expiredSeq);
      // Never purge without an audit copy: a lagging (or missing) BEAM_AUDIT postpones the purge.
      if (state === 'copied') {
        audited.push([generation, p]);
      } else if (!p.warned && Date.now() - p.since > AUDIT_LAG_WARNING_MS) {
        p.warned = true;
        this.logger.warn(
          `task ${p.taskId}: ${state === 'pending' ? 'BEAM_AUDIT has not copied its events' : 'there is no BEAM_AUDIT stream'} after ${AUDIT_LAG_WARNING_MS / 1000}s; its purge stays postponed`,
        );
      }
    }
    // Side by side, a batch at a time: one removal per event is a round trip each.
    for (let i = 0; i < audited.length; i += PURGE_BATCH) {
      const batch = audited.slice(i, i + PURGE_BATCH);
      await this.log.remove(batch.flatMap(([, p]) => p.seqs));
      for (const [generation] of batch) this.pendingPurges.delete(generation);
      await this.deleteBlobs(batch.flatMap(([, p]) => p.blobs));
    }
  }

  /**
   * Files past their TTL, or dropped by every recipient: their parts are deleted, then FileExpired is recorded
   * (deduplicated per file, so a replica that takes over repeats at most the deletions, which are no-ops).
   * The file's events stay in the log until its max_age, like a socket's.
   */
  private async removeFiles(): Promise<void> {
    const { files } = this.projection.state;
    for (const id of this.filesDone) if (!files.has(id)) this.filesDone.delete(id);
    for (const file of filesToRemove(files, Date.now())) {
      if (this.filesDone.has(file.fileId)) continue;
      await this.deleteBlobs(file.parts);
      const event: FileExpired = { type: 'FileExpired', v: 1, fileId: file.fileId, expiredAt: Math.min(Date.now(), file.expiresAt) };
      await this.log.append(subjects.fileExpired(file.fileId), event, { msgId: `fe-${file.fileId}` });
      this.filesDone.add(file.fileId);
    }
  }

  /**
   * Blobs no live task or file names, stored longer ago than BLOB_ORPHAN_GRACE: uploads whose message never came
   * (a proxy that failed midway, or one filling the store). Looked for a few times per grace period, at most
   * every 5 minutes (it reads every blob's description), and only on views that hold the whole log.
   */
  private async removeOrphanBlobs(): Promise<void> {
    const grace = this.config.blobOrphanGraceMs;
    if (!this.projection.caughtUp || Date.now() - this.orphansCheckedAt < Math.min(grace / 4, ORPHAN_CHECK_MAX_INTERVAL_MS)) return;
    this.orphansCheckedAt = Date.now();
    const listed = await this.blobs.list();
    // The views are read after the listing: a message appended meanwhile that names a listed blob is in them.
    const orphans = orphanedBlobs(listed, referencedBlobs(this.projection.state), Date.now(), grace);
    if (orphans.length === 0) return;
    this.logger.warn(
      `deleting ${orphans.length} blobs that no task or file names, stored over ${grace / 1000}s ago (by ${[...new Set(orphans.map((o) => o.uploader))].join(', ')})`,
    );
    await this.deleteBlobs(orphans.map((o) => ({ uploader: o.uploader, sha256: o.sha256, size: 0 })));
  }

  /**
   * The bodies the purged events named. A delete that fails leaves its blob to the store's max_age (MAX_TTL
   * plus a day): the events that named it are gone, so nothing can fetch it any more.
   */
  private async deleteBlobs(blobs: StoredBlob[]): Promise<void> {
    const results = await Promise.allSettled(blobs.map((b) => this.blobs.delete(b.uploader, b.sha256)));
    const failed = results.filter((r) => r.status === 'rejected').length;
    if (failed > 0) this.logger.warn(`${failed} of ${blobs.length} expired blobs not deleted; they go at the blob store's max_age`);
  }
}

const AUDIT_LAG_WARNING_MS = 60_000;
const ORPHAN_CHECK_MAX_INTERVAL_MS = 5 * 60_000;
/** TaskExpired appends in flight at once. */
const EXPIRE_BATCH = 64;
/** Expired generations whose events are removed side by side. */
const PURGE_BATCH = 16;

/** A task id can be reused after expiry; its generation (id and creating sequence) cannot. */
function generationOf(task: TaskView): string {
  return `${task.taskId}-${task.seq}`;
}

interface PendingPurge {
  taskId: string;
  /** The BEAM_EVENTS sequences of the generation's events, its TaskExpired last. */
  seqs: number[];
  /** The TaskExpired's BEAM_EVENTS sequence: once BEAM_AUDIT holds it, it holds everything before it. */
  expiredSeq: number;
  /** The bodies its events named in the blob store, deleted with them. */
  blobs: StoredBlob[];
  since: number;
  warned: boolean;
}
