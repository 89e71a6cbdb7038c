/**
 * Deciders: given what the log holds on a write's subject and the command, the event to append (with the
 * subject sequence the append must find, JetStream's optimistic concurrency) or the answer without a write.
 * Pure: broker-api reads, decides, appends, and on a conflicting append reads and decides again.
 * docs/decisions/0001-idempotent-retry.md says why a retry is recognised by sender and digest.
 */
import { Conflict, Forbidden, NotFound } from './errors';
import type { ResultPut, StoredBlob, TaskCreated } from './events';
import type { WorkStatus } from './messages';
import { type SocketConnected, type SocketRequested } from './events';
import { isLateClaim, isLive, isOlderResult, isRecipient, isSameTask } from './write-rules';

/** An event as the log holds it: its stream sequence and content. */
export interface Stored<E> {
  seq: number;
  event: E;
}

/** Append `event`, expecting the subject's last sequence to be `expectedLastSubjectSeq` (0: empty). */
export interface Append<E> {
  kind: 'append';
  event: E;
  expectedLastSubjectSeq: number;
}

/** Nothing to write: the log already holds the answer at `seq`. */
export interface AlreadyDone {
  kind: 'already';
  seq: number;
}

export type Decision<E> = Append<E> | AlreadyDone;

export interface CreateTask {
  taskId: string;
  from: string;
  to: string[];
  /** The signed, sealed message as the sender's proxy posted it. */
  message: string;
  /** The sender's keyed digest of the task's content, which recognises a retry. */
  digest: string;
  ttlMs: number;
  /** The body, when the message names a blob instead of carrying it. */
  blob?: StoredBlob;
}

/**
 * Create-once: an empty subject, or one whose task has expired (the id may be reused at once), takes the
 * TaskCreated; a live task of the same id is this task again (an idempotent retry, answered with its
 * sequence) or a conflict.
 */
export function decideCreateTask(prior: Stored<TaskCreated> | undefined, command: CreateTask, now: number): Decision<TaskCreated> {
  if (prior && isLive(prior.event.expiresAt, now)) {
    if (isSameTask(prior.event, command)) return { kind: 'already', seq: prior.seq };
    throw new Conflict(`id: task ${command.taskId} already exists`, 'task_exists');
  }
  const event: TaskCreated = {
    type: 'TaskCreated',
    v: 1,
    taskId: command.taskId,
    from: command.from,
    to: command.to,
    message: command.message,
    digest: command.digest,
    receivedAt: now,
    expiresAt: now + command.ttlMs,
    ...(command.blob ? { blob: command.blob } : {}),
  };
  return { kind: 'append', event, expectedLastSubjectSeq: prior?.seq ?? 0 };
}

/** The live task `taskId`, or NotFound: what a result, a read or a socket needs first. */
export function requireLiveTask(task: Stored<TaskCreated> | undefined, taskId: string, now: number): Stored<TaskCreated> {
  if (!task || !isLive(task.event.expiresAt, now)) throw new NotFound(`task ${taskId} not found`);
  return task;
}

/** The live task `taskId` if `app` may answer it: NotFound when it is gone, Forbidden when `app` is not a recipient. */
export function requireAnswerable(task: Stored<TaskCreated> | undefined, taskId: string, app: string, now: number): Stored<TaskCreated> {
  const live = requireLiveTask(task, taskId, now);
  if (!isRecipient(live.event, app)) throw new Forbidden(`from: ${app} is not a recipient of task ${taskId}`);
  return live;
}

export interface PutResult {
  taskId: string;
  from: string;
  to: string[];
  status: WorkStatus;
  message: string;
  /** The signed message's creation time. */
  created: number;
  /** The body, when the message names a blob instead of carrying it. */
  blob?: StoredBlob;
}

/** What putting a result decides, and whether it is the worker's first result for this task (201) or replaces one (204). */
export type ResultDecision = Decision<ResultPut> & { replaces: boolean };

/**
 * Only a live task's recipients may answer it; a worker's new result replaces its earlier one, except that a
 * late `claimed` never overwrites a final result and a result signed before the current one never replaces it. `prior` is the last event on the worker's result subject; one
 * older than the task is a leftover of an earlier task under the same id and does not count.
 */
export function decidePutResult(task: Stored<TaskCreated> | undefined, prior: Stored<ResultPut> | undefined, command: PutResult, now: number): ResultDecision {
  const live = requireAnswerable(task, command.taskId, command.from, now);
  const earlier = prior && prior.seq > live.seq ? prior : undefined;
  if (earlier && (isLateClaim(earlier.event, command.status) || isOlderResult(earlier.event, command.created))) {
    return { kind: 'already', seq: earlier.seq, replaces: true };
  }
  const event: ResultPut = {
    type: 'ResultPut',
    v: 1,
    taskId: command.taskId,
    from: command.from,
    to: command.to,
    status: command.status,
    message: command.message,
    receivedAt: now,
    created: command.created,
    ...(command.blob ? { blob: command.blob } : {}),
  };
  return { kind: 'append', event, expectedLastSubjectSeq: prior?.seq ?? 0, replaces: earlier !== undefined };
}

export interface RequestSocket {
  socketId: string;
  from: string;
  to: string[];
  message: string;
  ttlMs: number;
}

/** A socket id is used once, ever: an existing request, live or not, makes another a conflict. */
export function decideRequestSocket(prior: Stored<SocketRequested> | undefined, command: RequestSocket, now: number): Append<SocketRequested> {
  if (prior) throw new Conflict(`id: socket ${command.socketId} already exists`, 'socket_exists');
  const event: SocketRequested = {
    type: 'SocketRequested',
    v: 1,
    socketId: command.socketId,
    from: command.from,
    to: command.to,
    message: command.message,
    receivedAt: now,
    expiresAt: now + command.ttlMs,
  };
  return { kind: 'append', event, expectedLastSubjectSeq: 0 };
}

/**
 * The recipient `app` consumes a live socket request once. A request that is gone, expired, not addressed to
 * `app`, or not one the caller may act for (`mayActFor`) is NotFound, so a stranger learns nothing.
 */
export function decideConnectSocket(
  request: SocketRequested | undefined,
  socketId: string,
  app: string,
  mayActFor: boolean,
  now: number,
): Append<SocketConnected> & { request: SocketRequested } {
  if (!request || !isLive(request.expiresAt, now) || !mayActFor || !isRecipient(request, app)) throw new NotFound(`socket ${socketId} not found`);
  return { kind: 'append', event: { type: 'SocketConnected', v: 1, socketId, by: app, connectedAt: now }, expectedLastSubjectSeq: 0, request };
}
