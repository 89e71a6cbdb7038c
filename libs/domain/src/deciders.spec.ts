/** The write rules as given (what the log holds) / when (a command) / then (the events to append, or the answer). */
import { decideConnectSocket, decideCreateTask, decidePutResult, decideRequestSocket, type CreateTask, type PutResult, type Stored } from './deciders';
import { Conflict, Forbidden, NotFound } from './errors';
import type { ResultPut, TaskCreated } from './events';
import { type SocketRequested } from './events';

const TASK = '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8';
const APP1 = 'app1.proxy1.broker';
const APP2 = 'app2.proxy2.broker';
const NOW = 1_000_000;

const create: CreateTask = { taskId: TASK, from: APP1, to: [APP2], message: 'jws-1', digest: 'd1', ttlMs: 60_000 };

function created(seq: number, overrides: Partial<TaskCreated> = {}): Stored<TaskCreated> {
  const event: TaskCreated = {
    type: 'TaskCreated',
    v: 1,
    taskId: TASK,
    from: APP1,
    to: [APP2],
    message: 'jws-1',
    digest: 'd1',
    receivedAt: NOW - 1_000,
    expiresAt: NOW + 59_000,
  };
  return { seq, event: { ...event, ...overrides } };
}

function result(seq: number, status: ResultPut['status']): Stored<ResultPut> {
  return { seq, event: { type: 'ResultPut', v: 1, taskId: TASK, from: APP2, to: [APP1], status, message: 'jws-r', receivedAt: NOW - 500 } };
}

const put = (status: PutResult['status'], from = APP2, created = NOW): PutResult => ({ taskId: TASK, from, to: [APP1], status, message: 'jws-r2', created });

describe('decideCreateTask', () => {
  it('given an empty subject, appends TaskCreated expecting it empty, with the deadline from the TTL', () => {
    expect(decideCreateTask(undefined, create, NOW)).toEqual({
      kind: 'append',
      expectedLastSubjectSeq: 0,
      event: { type: 'TaskCreated', v: 1, taskId: TASK, from: APP1, to: [APP2], message: 'jws-1', digest: 'd1', receivedAt: NOW, expiresAt: NOW + 60_000 },
    });
  });

  it('given the same live task from the same sender, answers with its sequence and appends nothing (idempotent retry)', () => {
    expect(decideCreateTask(created(7), { ...create, message: 'jws-1-resigned' }, NOW)).toEqual({ kind: 'already', seq: 7 });
  });

  it('given a live task with other content, refuses with task_exists', () => {
    expect(() => decideCreateTask(created(7), { ...create, digest: 'd2' }, NOW)).toThrow(new Conflict(`id: task ${TASK} already exists`, 'task_exists'));
  });

  it('given a live task with the same content from another sender, refuses too', () => {
    expect(() => decideCreateTask(created(7, { from: 'app9.proxy1.broker' }), create, NOW)).toThrow(Conflict);
  });

  it('given an expired task under the id, reuses the id at once, expecting that task as the last event', () => {
    const decision = decideCreateTask(created(7, { expiresAt: NOW }), create, NOW);
    expect(decision).toMatchObject({ kind: 'append', expectedLastSubjectSeq: 7, event: { receivedAt: NOW } });
  });
});

describe('decidePutResult', () => {
  it('given a live task and no result, appends the first result (201)', () => {
    expect(decidePutResult(created(7), undefined, put('claimed'), NOW)).toEqual({
      kind: 'append',
      expectedLastSubjectSeq: 0,
      replaces: false,
      event: { type: 'ResultPut', v: 1, taskId: TASK, from: APP2, to: [APP1], status: 'claimed', message: 'jws-r2', receivedAt: NOW, created: NOW },
    });
  });

  it('given an earlier result of the worker, replaces it (204), expecting it as the last event', () => {
    expect(decidePutResult(created(7), result(9, 'claimed'), put('succeeded'), NOW)).toMatchObject({
      kind: 'append',
      expectedLastSubjectSeq: 9,
      replaces: true,
    });
  });

  it.each(['succeeded', 'permfailed'] as const)('given a %s result, a late claimed changes nothing', (final) => {
    expect(decidePutResult(created(7), result(9, final), put('claimed'), NOW)).toEqual({ kind: 'already', seq: 9, replaces: true });
  });

  it('given a tempfailed result, a claimed replaces it', () => {
    expect(decidePutResult(created(7), result(9, 'tempfailed'), put('claimed'), NOW)).toMatchObject({ kind: 'append', replaces: true });
  });

  it("given a result left from an earlier task under the same id, counts it as no result, yet expects it as the subject's last event", () => {
    expect(decidePutResult(created(12), result(9, 'succeeded'), put('claimed'), NOW)).toMatchObject({
      kind: 'append',
      expectedLastSubjectSeq: 9,
      replaces: false,
    });
  });

  it('refuses a worker that is not a recipient (403)', () => {
    expect(() => decidePutResult(created(7), undefined, put('succeeded', 'app9.proxy2.broker'), NOW)).toThrow(Forbidden);
  });

  it('refuses a task that does not exist or has expired (404)', () => {
    expect(() => decidePutResult(undefined, undefined, put('succeeded'), NOW)).toThrow(new NotFound(`task ${TASK} not found`));
    expect(() => decidePutResult(created(7, { expiresAt: NOW }), undefined, put('succeeded'), NOW)).toThrow(NotFound);
  });
});

describe('sockets', () => {
  const SOCKET = '1f0e4c2a-8b57-4d1e-9a43-5f6a7b8c9d0e';
  const requested: SocketRequested = {
    type: 'SocketRequested',
    v: 1,
    socketId: SOCKET,
    from: APP1,
    to: [APP2],
    message: 'jws-s',
    receivedAt: NOW - 1_000,
    expiresAt: NOW + 9_000,
  };

  it('appends a socket request to an unused id, and refuses an id used before (socket_exists)', () => {
    expect(decideRequestSocket(undefined, { socketId: SOCKET, from: APP1, to: [APP2], message: 'jws-s', ttlMs: 10_000 }, NOW)).toMatchObject({
      kind: 'append',
      expectedLastSubjectSeq: 0,
      event: { socketId: SOCKET, expiresAt: NOW + 10_000 },
    });
    expect(() => decideRequestSocket({ seq: 3, event: requested }, { socketId: SOCKET, from: APP1, to: [APP2], message: 'x', ttlMs: 1 }, NOW)).toThrow(
      new Conflict(`id: socket ${SOCKET} already exists`, 'socket_exists'),
    );
  });

  it('lets the addressed recipient connect once the request is live', () => {
    expect(decideConnectSocket(requested, SOCKET, APP2, true, NOW)).toEqual({
      kind: 'append',
      expectedLastSubjectSeq: 0,
      event: { type: 'SocketConnected', v: 1, socketId: SOCKET, by: APP2, connectedAt: NOW },
      request: requested,
    });
  });

  it.each([
    ['no request', undefined, APP2, true, NOW],
    ['an expired request', requested, APP2, true, NOW + 9_000],
    ['an app the request is not for', requested, 'app3.proxy2.broker', true, NOW],
    ['a caller that may not act for the app', requested, APP2, false, NOW],
  ])('answers 404, revealing nothing, for %s', (_, request, app, mayActFor, now) => {
    expect(() => decideConnectSocket(request, SOCKET, app, mayActFor, now)).toThrow(new NotFound(`socket ${SOCKET} not found`));
  });
});
