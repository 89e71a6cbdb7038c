/**
 * Turns verified proxy requests into events on the log. Create-once and idempotent retries follow
 * docs/architecture.md (and docs/decisions/0001-idempotent-retry.md): TaskCreated expects an empty subject (or one holding only an expired incarnation) and
 * carries a Nats-Msg-Id; a conflicting create with the same keyed digest from the same sender is a retry.
 */
import { Inject, Injectable } from '@nestjs/common';
import { sha256Base64Url } from '@beamline/crypto';
import {
  Conflict,
  Forbidden,
  InvalidInput,
  NotFound,
  parseEvent,
  parseSealedResult,
  parseSealedTask,
  parseUuid,
  proxyIdOf,
  QuotaExceeded,
  RecipientsWithoutCertificate,
  ttlMsOf,
  type ResultPut,
  type TaskCreated,
} from '@beamline/domain';
import { AppendConflict, EventLog, subjects, type StoredEvent } from '@beamline/nats';
import type { AuthenticatedProxy } from '../auth/proxy-auth.guard';
import { brokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { ProxyQuotas } from '../quotas/proxy-quotas';
import { StorageMonitor } from '../storage/storage-monitor';
import { SignedMessageVerifier } from './signed-message.verifier';
import { Wakeups } from './wakeups';

const MAX_APPEND_ATTEMPTS = 5;

@Injectable()
export class TaskCommands {
  private readonly config = brokerConfig();

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    private readonly verifier: SignedMessageVerifier,
    private readonly registry: CertificateRegistry,
    private readonly wakeups: Wakeups,
    private readonly storage: StorageMonitor,
    private readonly quotas: ProxyQuotas,
  ) {}

  /** Appends TaskCreated; returns the task id and the stream sequence that holds it. */
  async createTask(sender: AuthenticatedProxy, message: unknown): Promise<{ taskId: string; seq: number }> {
    this.quotas.admitWrite(sender.proxyId); // before any verification work
    const task = parseSealedTask(await this.verifier.verify(message, sender), { maxTtlMs: this.config.maxTtlMs, maxRecipients: this.config.maxRecipients });
    this.verifier.assertCanSignFor(sender, task.from);
    this.assertRecipientsHaveCertificates(task.to);
    const now = Date.now();
    const event: TaskCreated = {
      type: 'TaskCreated',
      v: 1,
      taskId: task.id,
      from: task.from,
      to: task.to,
      message: message as string,
      digest: task.digest,
      receivedAt: now,
      expiresAt: now + ttlMsOf(task),
    };
    const subject = subjects.taskCreated(task.id);
    const msgId = `tc-${sha256Base64Url(message as string)}`;
    this.storage.assertRoomForEvent(message as string);
    try {
      await this.quotas.reserve(sender.proxyId, { newTask: true, bytes: (message as string).length });
    } catch (err) {
      // A retry of a task that was stored is answered as before, whatever the quota says now.
      const stored = err instanceof QuotaExceeded ? await this.sameLiveTask(subject, task) : undefined;
      if (stored === undefined) throw err;
      return { taskId: task.id, seq: stored };
    }
    let expected = 0;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      try {
        const { seq, bytes } = await this.log.append(subject, event, { expectedLastSubjectSeq: expected, msgId });
        this.storage.appended(bytes);
        this.quotas.appended(sender.proxyId, seq);
        this.wakeups.notify([...new Set([task.from, ...task.to])].map(subjects.notifyApp), seq);
        return { taskId: task.id, seq };
      } catch (err) {
        if (!(err instanceof AppendConflict)) throw err;
        const existing = await this.log.lastOn(subject);
        if (!existing) continue; // purged meanwhile: the subject is empty again
        const prior = parseEvent(existing.event) as TaskCreated;
        if (prior.expiresAt > Date.now()) {
          if (prior.from === task.from && prior.digest === task.digest) return { taskId: task.id, seq: existing.seq };
          throw new Conflict(`id: task ${task.id} already exists`, 'task_exists');
        }
        expected = existing.seq; // the earlier incarnation expired: the id may be reused at once
      }
    }
    throw new Conflict(`id: task ${task.id} is being written concurrently, retry`, 'write_contention');
  }

  /** Appends ResultPut; `created` is false when it replaced an earlier result of the same worker. */
  async putResult(sender: AuthenticatedProxy, taskIdParam: string, appParam: string, message: unknown): Promise<{ created: boolean; seq: number }> {
    this.quotas.admitWrite(sender.proxyId);
    const taskId = parseUuid(taskIdParam, 'task id');
    const result = parseSealedResult(await this.verifier.verify(message, sender), { maxRecipients: this.config.maxRecipients });
    if (result.task !== taskId) throw new InvalidInput(`task: ${result.task} does not match the task id in the path (${taskId})`);
    if (result.from !== appParam) throw new InvalidInput(`from: ${result.from} does not match the app id in the path (${appParam})`);
    this.verifier.assertCanSignFor(sender, result.from);
    const task = await this.liveTaskCreated(taskId);
    if (!task.event.to.includes(result.from)) throw new Forbidden(`from: ${result.from} is not a recipient of task ${taskId}`);
    const event: ResultPut = {
      type: 'ResultPut',
      v: 1,
      taskId,
      from: result.from,
      to: result.to,
      status: result.status,
      message: message as string,
      receivedAt: Date.now(),
    };
    const subject = subjects.taskResult(taskId, result.from);
    const msgId = `rp-${sha256Base64Url(message as string)}`;
    this.storage.assertRoomForEvent(message as string);
    await this.quotas.reserve(sender.proxyId, { newTask: false, bytes: (message as string).length });
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const existing = await this.log.lastOn(subject);
      // A leftover from an earlier incarnation of this task id does not count as a prior result.
      const prior = existing && existing.seq > task.seq ? (parseEvent(existing.event) as ResultPut) : undefined;
      if (prior && result.status === 'claimed' && (prior.status === 'succeeded' || prior.status === 'permfailed')) {
        return { created: false, seq: existing!.seq }; // a late claim never overwrites a final result
      }
      try {
        const { seq, duplicate, bytes } = await this.log.append(subject, event, { expectedLastSubjectSeq: existing?.seq ?? 0, msgId });
        if (!duplicate) this.storage.appended(bytes);
        this.quotas.appended(sender.proxyId, seq);
        if (!duplicate) this.wakeups.notify([...new Set([task.event.from, ...result.to])].map(subjects.notifyApp).concat(subjects.notifyTask(taskId)), seq);
        return { created: !prior, seq };
      } catch (err) {
        if (!(err instanceof AppendConflict)) throw err;
      }
    }
    throw new Conflict(`result: concurrent writes for ${result.from} on task ${taskId}, retry`, 'write_contention');
  }

  /** The sequence of the live TaskCreated on `subject` if it is this very task from the same sender. */
  private async sameLiveTask(subject: string, task: { from: string; digest: string }): Promise<number | undefined> {
    const existing = await this.log.lastOn(subject);
    if (!existing) return undefined;
    const prior = parseEvent(existing.event) as TaskCreated;
    return prior.expiresAt > Date.now() && prior.from === task.from && prior.digest === task.digest ? existing.seq : undefined;
  }

  private async liveTaskCreated(taskId: string): Promise<StoredEvent & { event: TaskCreated }> {
    const stored = await this.log.lastOn(subjects.taskCreated(taskId));
    const event = stored ? (parseEvent(stored.event) as TaskCreated) : undefined;
    if (!stored || !event || event.expiresAt <= Date.now()) throw new NotFound(`task ${taskId} not found`);
    return { seq: stored.seq, event };
  }

  private assertRecipientsHaveCertificates(to: string[]): void {
    const proxies = new Set(to.map((recipient, i) => proxyIdOf(recipient, this.config.brokerId, `to[${i}]`)));
    const missing = new Set<string>();
    for (const proxyId of proxies) if (!this.registry.currentFor(proxyId)) missing.add(proxyId);
    if (missing.size > 0) throw new RecipientsWithoutCertificate([...missing]);
  }
}
