/**
 * Turns verified proxy requests into events on the log: read → decide (libs/domain deciders.ts) → append →
 * notify. Create-once and idempotent retries follow docs/architecture.md and
 * docs/decisions/0001-idempotent-retry.md: TaskCreated expects an empty subject (or one holding only an
 * expired task) and carries a Nats-Msg-Id; a conflicting create with the same keyed digest from the same
 * sender is a retry.
 */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { sha256Base64Url } from '@beamline/crypto';
import {
  decideCreateTask,
  decidePutResult,
  InvalidInput,
  isLive,
  isSameTask,
  parseEvent,
  parseSealedResult,
  parseSealedTask,
  parseUuid,
  proxyIdOf,
  QuotaExceeded,
  RecipientsWithoutCertificate,
  requireAnswerable,
  ttlMsOf,
  type CreateTask,
  type ResultPut,
  type Stored,
  type TaskCreated,
} from '@beamline/domain';
import { subjects, type StoredEvent } from '@beamline/nats';
import type { AuthenticatedProxy } from '../../auth/proxy-auth.guard';
import { appendDecided } from '../decided-append';
import { SignedWrite } from '../signed-write';

/** A proxy posts a task: appends TaskCreated; answers the task id and the stream sequence that holds it. */
export class CreateTaskCommand extends Command<{ taskId: string; seq: number }> {
  constructor(
    readonly sender: AuthenticatedProxy,
    readonly message: unknown,
  ) {
    super();
  }
}

/** A worker's proxy puts a result: appends ResultPut; `created` is false when it replaced an earlier result of the same worker. */
export class PutResultCommand extends Command<{ created: boolean; seq: number }> {
  constructor(
    readonly sender: AuthenticatedProxy,
    readonly taskIdParam: string,
    readonly appParam: string,
    readonly message: unknown,
  ) {
    super();
  }
}

@CommandHandler(CreateTaskCommand)
export class CreateTaskHandler extends SignedWrite implements ICommandHandler<CreateTaskCommand> {
  async execute({ sender, message }: CreateTaskCommand): Promise<{ taskId: string; seq: number }> {
    this.quotas.admitWrite(sender.proxyId); // before any verification work
    const task = parseSealedTask(await this.verifier.verify(message, sender), { maxTtlMs: this.config.maxTtlMs, maxRecipients: this.config.maxRecipients });
    this.verifier.assertCanSignFor(sender, task.from);
    this.assertSealedNow(task.created);
    this.assertRecipientsHaveCertificates(task.to);
    const jws = message as string;
    const command: CreateTask = { taskId: task.id, from: task.from, to: task.to, message: jws, digest: task.digest, ttlMs: ttlMsOf(task) };
    const subject = subjects.taskCreated(task.id);
    this.storage.assertRoomForEvent(jws);
    try {
      await this.quotas.reserve(sender.proxyId, { newTask: true, bytes: jws.length });
    } catch (err) {
      // A retry of a task that was stored is answered as before, whatever the quota says now.
      const stored = err instanceof QuotaExceeded ? await this.storedRetryOf(subject, command) : undefined;
      if (stored === undefined) throw err;
      return { taskId: task.id, seq: stored };
    }
    const outcome = await appendDecided(this.log, {
      subject,
      decide: (prior) => decideCreateTask(prior && asStored<TaskCreated>(prior, 'TaskCreated'), command, Date.now()),
      msgId: `tc-${sha256Base64Url(jws)}`,
      assumeEmpty: true,
      contention: `id: task ${task.id} is being written concurrently, retry`,
    });
    if (outcome.kind === 'already') return { taskId: task.id, seq: outcome.seq };
    const { seq, bytes, duplicate } = outcome.appended;
    if (!duplicate) this.storage.appended(bytes);
    this.quotas.appended(sender.proxyId, seq);
    this.wakeups.notify([...new Set([task.from, ...task.to])].map(subjects.notifyApp), seq);
    return { taskId: task.id, seq };
  }

  /** The sequence of the live TaskCreated on `subject` if it is this very task from the same sender. */
  private async storedRetryOf(subject: string, command: CreateTask): Promise<number | undefined> {
    const existing = await this.log.lastOn(subject);
    if (!existing) return undefined;
    const prior = asStored<TaskCreated>(existing, 'TaskCreated');
    return isLive(prior.event.expiresAt, Date.now()) && isSameTask(prior.event, command) ? prior.seq : undefined;
  }

  private assertRecipientsHaveCertificates(to: string[]): void {
    const proxies = new Set(to.map((recipient, i) => proxyIdOf(recipient, this.config.brokerId, `to[${i}]`)));
    const missing = new Set<string>();
    for (const proxyId of proxies) if (!this.registry.currentFor(proxyId)) missing.add(proxyId);
    if (missing.size > 0) throw new RecipientsWithoutCertificate([...missing]);
  }
}

@CommandHandler(PutResultCommand)
export class PutResultHandler extends SignedWrite implements ICommandHandler<PutResultCommand> {
  async execute({ sender, taskIdParam, appParam, message }: PutResultCommand): Promise<{ created: boolean; seq: number }> {
    this.quotas.admitWrite(sender.proxyId);
    const taskId = parseUuid(taskIdParam, 'task id');
    const result = parseSealedResult(await this.verifier.verify(message, sender), { maxRecipients: this.config.maxRecipients });
    if (result.task !== taskId) throw new InvalidInput(`task: ${result.task} does not match the task id in the path (${taskId})`);
    if (result.from !== appParam) throw new InvalidInput(`from: ${result.from} does not match the app id in the path (${appParam})`);
    this.verifier.assertCanSignFor(sender, result.from);
    this.assertSealedNow(result.created);
    const stored = await this.log.lastOn(subjects.taskCreated(taskId));
    const task = requireAnswerable(stored ? asStored<TaskCreated>(stored, 'TaskCreated') : undefined, taskId, result.from, Date.now());
    const jws = message as string;
    const command = { taskId, from: result.from, to: result.to, status: result.status, message: jws, created: result.created };
    this.storage.assertRoomForEvent(jws);
    await this.quotas.reserve(sender.proxyId, { newTask: false, bytes: jws.length });
    let replaces = false;
    const outcome = await appendDecided(this.log, {
      subject: subjects.taskResult(taskId, result.from),
      decide: (prior) => {
        const decision = decidePutResult(task, prior && asStored<ResultPut>(prior, 'ResultPut'), command, Date.now());
        replaces = decision.replaces;
        return decision;
      },
      msgId: `rp-${sha256Base64Url(jws)}`,
      contention: `result: concurrent writes for ${result.from} on task ${taskId}, retry`,
    });
    if (outcome.kind === 'already') return { created: false, seq: outcome.seq }; // a late claim never overwrites a final result
    const { seq, duplicate, bytes } = outcome.appended;
    if (!duplicate) this.storage.appended(bytes);
    this.quotas.appended(sender.proxyId, seq);
    if (!duplicate) this.wakeups.notify([...new Set([task.event.from, ...result.to])].map(subjects.notifyApp).concat(subjects.notifyTask(taskId)), seq);
    return { created: !replaces, seq };
  }
}

/** The event the log holds on a subject of one kind; anything else there is a broken log, not a client's error. */
function asStored<E extends { type: string }>(stored: StoredEvent, type: E['type']): Stored<E> {
  const event = parseEvent(stored.event);
  if (event.type !== type) throw new Error(`event #${stored.seq}: expected ${type}, found ${event.type}`);
  return { seq: stored.seq, event: event as unknown as E };
}
