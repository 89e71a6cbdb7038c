import type { ResultPut, StoredBlob, TaskCreated, TaskExpired } from './events';
import type { WorkStatus } from './messages';
import { belongsToProxy, type SenderUsage } from './quota';
import { type LogEvent, type SocketRequested } from './events';
import { applyFileEvent, type FileView } from './file-views';
import { isTodoFor } from './todo';
import { isLateClaim, isLive, isOlderResult, isRecipient } from './write-rules';

/**
 * Where an event sits in the log: its stream sequence and the size of the stored message. Views keep this
 * instead of the signed message, so a store's memory grows with the number of live items, not their bodies;
 * answers fetch the messages from the log by sequence.
 */
export interface LogPosition {
  seq: number;
  bytes: number;
}
/** A result as the projection keeps it (`seq`/`bytes`: its ResultPut). */
export interface ResultView extends LogPosition {
  from: string;
  to: string[];
  status: WorkStatus;
  receivedAt: number;
  /** The signed creation time the ResultPut repeats (absent in events from before message format 2). */
  created?: number;
}
/**
 * A task as the projection keeps it; `seq`/`bytes` are the TaskCreated's, results are keyed by result.from.
 * `logSeqs`: every event of this generation in the log (its TaskCreated and every ResultPut, replaced and
 * ignored ones too), which is what the expiry sweeper removes from the live log. `charged`: the bytes of those
 * events (and of the blobs they name) by who wrote them, taken off their usage when the generation goes.
 * `blobs`: the bodies this generation's events name in the blob store, which the sweeper deletes with them.
 */
export interface TaskView extends LogPosition {
  taskId: string;
  from: string;
  to: string[];
  receivedAt: number;
  expiresAt: number;
  results: Map<string, ResultView>;
  logSeqs: number[];
  charged: Map<string, number>;
  /** Absent when no event of the task names a blob (most tasks): no array per task. */
  blobs?: StoredBlob[];
}
/**
 * The mutable projection state (tasks plus recipient/sender indexes of task ids). `usage`: per sender (app or
 * proxy id), the live tasks it created and the bytes its events hold in the live log (the per-proxy quotas).
 */
export interface ProjectionState {
  lastSeq: number;
  tasks: Map<string, TaskView>;
  byRecipient: Map<string, Set<string>>;
  bySender: Map<string, Set<string>>;
  sockets: Map<string, SocketView>;
  usage: Map<string, SenderUsage>;
  /** Files sent store-and-forward, by id (file-views.ts). */
  files: Map<string, FileView>;
}
/** A live (not yet connected) socket request; `seq`/`bytes` are the SocketRequested's. */
export interface SocketView extends LogPosition {
  socketId: string;
  from: string;
  to: string[];
  receivedAt: number;
  expiresAt: number;
}
/** A task listing query (see docs/api.md: from matches OR to contains; todoFor narrows). */
export interface TaskQuery {
  from?: string;
  to?: string;
  todoFor?: string;
}

/** A fresh, empty projection. */
export function emptyProjection(): ProjectionState {
  return { lastSeq: 0, tasks: new Map(), byRecipient: new Map(), bySender: new Map(), sockets: new Map(), usage: new Map(), files: new Map() };
}

/** True when the task is dead at `now` (now >= expiresAt). */
export function isExpired(task: TaskView, now: number): boolean {
  return !isLive(task.expiresAt, now);
}

function indexAdd(index: Map<string, Set<string>>, key: string, taskId: string): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(taskId);
}

function indexRemove(index: Map<string, Set<string>>, key: string, taskId: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(taskId);
  if (set.size === 0) index.delete(key);
}

function charge(state: ProjectionState, sender: string, tasks: number, bytes: number): void {
  const usage = state.usage.get(sender) ?? { tasks: 0, bytes: 0 };
  usage.tasks += tasks;
  usage.bytes += bytes;
  if (usage.tasks <= 0 && usage.bytes <= 0) state.usage.delete(sender);
  else state.usage.set(sender, usage);
}

function removeTask(state: ProjectionState, task: TaskView): void {
  state.tasks.delete(task.taskId);
  indexRemove(state.bySender, task.from, task.taskId);
  for (const r of task.to) indexRemove(state.byRecipient, r, task.taskId);
  charge(state, task.from, -1, 0);
  for (const [sender, bytes] of task.charged) charge(state, sender, 0, -bytes);
}

function onTaskCreated(state: ProjectionState, e: TaskCreated, { seq, bytes }: LogPosition): void {
  const existing = state.tasks.get(e.taskId);
  if (existing) {
    if (isLive(existing.expiresAt, e.receivedAt)) return; // create-once
    removeTask(state, existing);
  }
  state.tasks.set(e.taskId, {
    taskId: e.taskId,
    from: e.from,
    to: [...e.to],
    receivedAt: e.receivedAt,
    expiresAt: e.expiresAt,
    seq,
    bytes,
    results: new Map(),
    logSeqs: [seq],
    charged: new Map([[e.from, bytes + (e.blob?.size ?? 0)]]),
    ...(e.blob ? { blobs: [e.blob] } : {}),
  });
  charge(state, e.from, 1, bytes + (e.blob?.size ?? 0));
  indexAdd(state.bySender, e.from, e.taskId);
  for (const r of e.to) indexAdd(state.byRecipient, r, e.taskId);
}

function onResultPut(state: ProjectionState, e: ResultPut, { seq, bytes }: LogPosition): void {
  const task = state.tasks.get(e.taskId);
  if (!task) return;
  task.logSeqs.push(seq);
  const charged = bytes + (e.blob?.size ?? 0);
  task.charged.set(e.from, (task.charged.get(e.from) ?? 0) + charged);
  charge(state, e.from, 0, charged);
  if (e.blob) (task.blobs ??= []).push(e.blob);
  if (!isLive(task.expiresAt, e.receivedAt) || !isRecipient(task, e.from)) return;
  const prior = task.results.get(e.from);
  if (isLateClaim(prior, e.status) || isOlderResult(prior, e.created)) return;
  const created = e.created === undefined ? {} : { created: e.created };
  task.results.set(e.from, { from: e.from, to: [...e.to], status: e.status, receivedAt: e.receivedAt, seq, bytes, ...created });
}

function onTaskExpired(state: ProjectionState, e: TaskExpired): void {
  const task = state.tasks.get(e.taskId);
  // Guard: a TaskExpired for an earlier incarnation must not remove a task re-created after it expired.
  if (task && isExpired(task, e.expiredAt)) removeTask(state, task);
}

/**
 * Applies one event at stream sequence `seq` (its stored message `bytes` long) and returns the next state,
 * deterministic in (state, event, seq, bytes). The next state is `state` updated in place, not a copy: a
 * projection of 100,000 live tasks cannot be copied per event. Its rules are the deciders' (write-rules.ts).
 */
export function applyEvent(state: ProjectionState, event: LogEvent, seq: number, bytes = 0): ProjectionState {
  const at: LogPosition = { seq, bytes };
  switch (event.type) {
    case 'TaskCreated':
      onTaskCreated(state, event, at);
      break;
    case 'ResultPut':
      onResultPut(state, event, at);
      break;
    case 'TaskExpired':
      onTaskExpired(state, event);
      break;
    case 'SocketRequested':
      onSocketRequested(state, event, at);
      break;
    case 'SocketConnected':
      state.sockets.delete(event.socketId);
      break;
    case 'FileOffered':
    case 'FileDropped':
    case 'FileExpired':
      applyFileEvent(state.files, event, seq, bytes, (sender, charged) => charge(state, sender, 0, charged));
      break;
  }
  state.lastSeq = Math.max(state.lastSeq, seq);
  return state;
}

/** What the apps of `proxyId` (and the proxy itself) hold in the live log, expired but unswept tasks included. */
export function usageOfProxy(state: ProjectionState, proxyId: string): SenderUsage {
  const total: SenderUsage = { tasks: 0, bytes: 0 };
  for (const [sender, usage] of state.usage) {
    if (!belongsToProxy(sender, proxyId)) continue;
    total.tasks += usage.tasks;
    total.bytes += usage.bytes;
  }
  return total;
}

/** The task if present and not expired at `now`. */
export function liveTask(state: ProjectionState, taskId: string, now: number): TaskView | undefined {
  const task = state.tasks.get(taskId);
  return task && !isExpired(task, now) ? task : undefined;
}

function bySeq(a: { seq: number }, b: { seq: number }): number {
  return a.seq - b.seq;
}

/** Live tasks matching the query, ordered by seq ascending (uses the indexes; an empty query matches nothing). */
export function tasksMatching(state: ProjectionState, query: TaskQuery, now: number): TaskView[] {
  const { from, todoFor } = query;
  const to = query.to ?? (from === undefined ? todoFor : undefined);
  const ids = new Set<string>();
  if (todoFor !== undefined) {
    // todoFor requires the app to be a recipient, so its inbox bounds the candidates.
    for (const id of state.byRecipient.get(todoFor) ?? []) ids.add(id);
  } else {
    if (from !== undefined) for (const id of state.bySender.get(from) ?? []) ids.add(id);
    if (to !== undefined) for (const id of state.byRecipient.get(to) ?? []) ids.add(id);
  }
  const out: TaskView[] = [];
  for (const id of ids) {
    const task = state.tasks.get(id);
    if (!task || isExpired(task, now)) continue;
    const matches = (from !== undefined && task.from === from) || (to !== undefined && task.to.includes(to));
    if (!matches) continue;
    if (todoFor !== undefined && !isTodoFor(task, todoFor)) continue;
    out.push(task);
  }
  return out.sort(bySeq);
}

/** Results of `task` addressed to `reader`, ordered by seq. */
export function resultsFor(task: TaskView, reader: string): ResultView[] {
  return [...task.results.values()].filter((r) => r.to.includes(reader)).sort(bySeq);
}

/** Tasks expired at `now` (for the expiry sweeper), ordered by seq. */
export function expiredTasks(state: ProjectionState, now: number): TaskView[] {
  const out: TaskView[] = [];
  for (const task of state.tasks.values()) if (isExpired(task, now)) out.push(task);
  return out.sort(bySeq);
}

function onSocketRequested(state: ProjectionState, e: SocketRequested, { seq, bytes }: LogPosition): void {
  // Logical expiry: requests dead at this event's time are dropped (deterministic in the log).
  for (const [id, s] of state.sockets) if (e.receivedAt >= s.expiresAt) state.sockets.delete(id);
  const existing = state.sockets.get(e.socketId);
  if (existing && e.receivedAt < existing.expiresAt) return; // create-once
  state.sockets.set(e.socketId, { socketId: e.socketId, from: e.from, to: [...e.to], receivedAt: e.receivedAt, expiresAt: e.expiresAt, seq, bytes });
}

/** Live socket requests addressed to `app` (not connected, not expired at `now`), ordered by seq. */
export function socketsFor(state: ProjectionState, app: string, now: number): SocketView[] {
  const out: SocketView[] = [];
  for (const s of state.sockets.values()) if (now < s.expiresAt && s.to.includes(app)) out.push(s);
  return out.sort(bySeq);
}
