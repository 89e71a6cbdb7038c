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
  parseSealedResult,
  parseSealedTask,
  parseUuid,
  QuotaExceeded,
  requireAnswerable,
  ttlMsOf,
  type BlobRef,
  type CreateTask,
  type PutResult,
  type ResultPut,
  type Stored,
  type StoredBlob,
  type TaskCreated,
} from '@beamline/domain';
import { subjects } from '@beamline/nats';
import type { AuthenticatedProxy } from '../../auth/proxy-auth.guard';
import { appendDecided, asStored } from '../decided-append';
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
    return this.droppingBlobsIfRefused(ownBlobs(sender, task.encrypted_blob), async () => {
      this.verifier.assertCanSignFor(sender, task.from);
      this.assertSealedNow(task.created);
      this.assertRecipientsHaveCertificates(task.to);
      const jws = message as string;
      this.storage.assertRoomForEvent(jws);
      const blob = await this.storedBlob(sender, task.encrypted_blob, task.to);
      const command: CreateTask = {
        taskId: task.id,
        from: task.from,
        to: task.to,
        message: jws,
        digest: task.digest,
        ttlMs: ttlMsOf(task),
        ...(blob ? { blob } : {}),
      };
      return this.append(sender, command);
    });
  }

  private async append(sender: AuthenticatedProxy, command: CreateTask): Promise<{ taskId: string; seq: number }> {
    const subject = subjects.taskCreated(command.taskId);
    try {
      await this.quotas.reserve(sender.proxyId, { newTask: true, bytes: command.message.length + (command.blob?.size ?? 0) });
    } catch (err) {
      // A retry of a task that was stored is answered as before, whatever the quota says now.
      const stored = err instanceof QuotaExceeded ? await this.storedRetryOf(subject, command) : undefined;
      if (stored === undefined) throw err;
      await this.dropBlob(command.blob, stored.event.blob);
      return { taskId: command.taskId, seq: stored.seq };
    }
    let kept: TaskCreated | undefined;
    const outcome = await appendDecided(this.log, {
      subject,
      decide: (prior) => {
        const stored = prior && asStored<TaskCreated>(prior, 'TaskCreated');
        kept = stored?.event;
        return decideCreateTask(stored, command, Date.now());
      },
      msgId: `tc-${sha256Base64Url(command.message)}`,
      assumeEmpty: true,
      contention: `id: task ${command.taskId} is being written concurrently, retry`,
    });
    if (outcome.kind === 'already') {
      await this.dropBlob(command.blob, kept?.blob); // an app's retry, sealed afresh: the stored task keeps its own blob
      return { taskId: command.taskId, seq: outcome.seq };
    }
    const { seq, bytes, duplicate } = outcome.appended;
    if (!duplicate) this.storage.appended(bytes);
    this.quotas.appended(sender.proxyId, seq);
    this.wakeups.notify([...new Set([command.from, ...command.to])].map(subjects.notifyApp), seq);
    return { taskId: command.taskId, seq };
  }

  /** The live TaskCreated on `subject` if it is this very task from the same sender. */
  private async storedRetryOf(subject: string, command: CreateTask): Promise<Stored<TaskCreated> | undefined> {
    const existing = await this.log.lastOn(subject);
    if (!existing) return undefined;
    const prior = asStored<TaskCreated>(existing, 'TaskCreated');
    return isLive(prior.event.expiresAt, Date.now()) && isSameTask(prior.event, command) ? prior : undefined;
  }
}

@CommandHandler(PutResultCommand)
export class PutResultHandler extends SignedWrite implements ICommandHandler<PutResultCommand> {
  async execute({ sender, taskIdParam, appParam, message }: PutResultCommand): Promise<{ created: boolean; seq: number }> {
    this.quotas.admitWrite(sender.proxyId);
    const taskId = parseUuid(taskIdParam, 'task id');
    const result = parseSealedResult(await this.verifier.verify(message, sender), { maxRecipients: this.config.maxRecipients });
    return this.droppingBlobsIfRefused(ownBlobs(sender, result.encrypted_blob), async () => {
      if (result.task !== taskId) throw new InvalidInput(`task: ${result.task} does not match the task id in the path (${taskId})`);
      if (result.from !== appParam) throw new InvalidInput(`from: ${result.from} does not match the app id in the path (${appParam})`);
      this.verifier.assertCanSignFor(sender, result.from);
      this.assertSealedNow(result.created);
      const stored = await this.log.lastOn(subjects.taskCreated(taskId));
      const task = requireAnswerable(stored ? asStored<TaskCreated>(stored, 'TaskCreated') : undefined, taskId, result.from, Date.now());
      const jws = message as string;
      this.storage.assertRoomForEvent(jws);
      const blob = await this.storedBlob(sender, result.encrypted_blob, result.to);
      const command: PutResult = {
        taskId,
        from: result.from,
        to: result.to,
        status: result.status,
        message: jws,
        created: result.created,
        ...(blob ? { blob } : {}),
      };
      return this.append(sender, task, command);
    });
  }

  private async append(sender: AuthenticatedProxy, task: Stored<TaskCreated>, command: PutResult): Promise<{ created: boolean; seq: number }> {
    await this.quotas.reserve(sender.proxyId, { newTask: false, bytes: command.message.length + (command.blob?.size ?? 0) });
    let replaces = false;
    let kept: ResultPut | undefined;
    const outcome = await appendDecided(this.log, {
      subject: subjects.taskResult(command.taskId, command.from),
      decide: (prior) => {
        const earlier = prior && asStored<ResultPut>(prior, 'ResultPut');
        kept = earlier?.event;
        const decision = decidePutResult(task, earlier, command, Date.now());
        replaces = decision.replaces;
        return decision;
      },
      msgId: `rp-${sha256Base64Url(command.message)}`,
      contention: `result: concurrent writes for ${command.from} on task ${command.taskId}, retry`,
    });
    if (outcome.kind === 'already') {
      await this.dropBlob(command.blob, kept?.blob); // not stored: a late claim never overwrites a final result
      return { created: false, seq: outcome.seq };
    }
    const { seq, duplicate, bytes } = outcome.appended;
    if (!duplicate) this.storage.appended(bytes);
    this.quotas.appended(sender.proxyId, seq);
    const notify = [...new Set([task.event.from, ...command.to])].map(subjects.notifyApp).concat(subjects.notifyTask(command.taskId));
    if (!duplicate) this.wakeups.notify(notify, seq);
    return { created: !replaces, seq };
  }
}

/** The blob a verified message of `sender` names, as the sender's own: the only one a refusal may drop. */
function ownBlobs(sender: AuthenticatedProxy, ref: BlobRef | undefined): StoredBlob[] {
  return ref ? [{ uploader: sender.proxyId, ...ref }] : [];
}
