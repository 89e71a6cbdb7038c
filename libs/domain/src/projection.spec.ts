import type { BeamEvent, ResultPut, TaskCreated, TaskExpired } from './events';
import type { WorkStatus } from './messages';
import { applyEvent, emptyProjection, expiredTasks, isExpired, liveTask, ProjectionState, resultsFor, tasksMatching, usageOfProxy } from './projection';

const T1 = '11111111-1111-4111-8111-111111111111';
const T2 = '22222222-2222-4222-8222-222222222222';
const T3 = '33333333-3333-4333-8333-333333333333';
const A1P1 = 'app1.proxy1.broker';
const A2P1 = 'app2.proxy1.broker';
const A1P2 = 'app1.proxy2.broker';
const A2P2 = 'app2.proxy2.broker';

function created(taskId: string, o: Partial<TaskCreated> = {}): TaskCreated {
  return { type: 'TaskCreated', v: 1, taskId, from: A1P1, to: [A1P2], message: `jws-${taskId}`, digest: 'd', receivedAt: 1_000, expiresAt: 11_000, ...o };
}
function put(taskId: string, from: string, status: WorkStatus, o: Partial<ResultPut> = {}): ResultPut {
  return { type: 'ResultPut', v: 1, taskId, from, to: [A1P1], status, message: `res-${from}-${status}`, receivedAt: 2_000, ...o };
}
function expired(taskId: string, expiredAt = 11_000): TaskExpired {
  return { type: 'TaskExpired', v: 1, taskId, expiredAt };
}
/** Given: a projection built from events with seq 1..n. */
function given(...events: BeamEvent[]): ProjectionState {
  const s = emptyProjection();
  events.forEach((e, i) => applyEvent(s, e, i + 1));
  return s;
}
const ids = (tasks: { taskId: string }[]) => tasks.map((t) => t.taskId);

describe('projection reducer', () => {
  it('starts empty', () => {
    const s = emptyProjection();
    expect(s.lastSeq).toBe(0);
    expect(s.tasks.size).toBe(0);
  });

  it('given nothing, when a task is created, then it is live for its recipients and sender until expiresAt', () => {
    const s = given();
    const returned = applyEvent(s, created(T1), 7);
    expect(returned).toBe(s);
    expect(s.lastSeq).toBe(7);
    const view = liveTask(s, T1, 10_999)!;
    expect(view).toMatchObject({ taskId: T1, from: A1P1, to: [A1P2], seq: 7, expiresAt: 11_000 });
    expect(view.results.size).toBe(0);
    expect(liveTask(s, T1, 11_000)).toBeUndefined();
    expect(s.byRecipient.get(A1P2)).toEqual(new Set([T1]));
    expect(s.bySender.get(A1P1)).toEqual(new Set([T1]));
  });

  it('keeps where each message is stored (sequence and size), never the signed message itself', () => {
    const s = emptyProjection();
    applyEvent(s, created(T1, { message: 'x'.repeat(10_000) }), 1, 10_250);
    applyEvent(s, put(T1, A1P2, 'succeeded', { message: 'y'.repeat(5_000) }), 2, 5_180);
    const task = s.tasks.get(T1)!;
    expect(task).toMatchObject({ seq: 1, bytes: 10_250 });
    expect(task.results.get(A1P2)).toMatchObject({ seq: 2, bytes: 5_180 });
    expect(JSON.stringify({ ...task, results: [...task.results.values()] })).not.toContain('xxxx');
    expect(JSON.stringify([...task.results.values()])).not.toContain('yyyy');
  });

  it('keeps lastSeq monotonic even for ignored or out-of-order seqs', () => {
    const s = given(created(T1));
    applyEvent(s, created(T1), 10); // ignored duplicate
    expect(s.lastSeq).toBe(10);
    applyEvent(s, expired(T2), 4);
    expect(s.lastSeq).toBe(10);
  });

  it('given a live task, when the same id is created again, then the original is kept (create-once)', () => {
    const s = given(created(T1), put(T1, A1P2, 'succeeded'));
    applyEvent(s, created(T1, { from: A2P1, to: [A2P2], message: 'other', receivedAt: 5_000, expiresAt: 50_000 }), 3);
    const view = s.tasks.get(T1)!;
    expect(view).toMatchObject({ from: A1P1, seq: 1 });
    expect(view.results.size).toBe(1);
    expect(s.bySender.has(A2P1)).toBe(false);
  });

  it('given an expired task still in the state, when its id is reused, then a fresh task replaces it with no results and re-indexed', () => {
    const s = given(created(T1), put(T1, A1P2, 'succeeded'));
    applyEvent(s, created(T1, { from: A2P1, to: [A2P2], message: 'new', receivedAt: 11_000, expiresAt: 20_000 }), 3);
    const view = liveTask(s, T1, 12_000)!;
    expect(view).toMatchObject({ from: A2P1, to: [A2P2], seq: 3 });
    expect(view.results.size).toBe(0);
    expect(s.bySender.has(A1P1)).toBe(false);
    expect(s.byRecipient.has(A1P2)).toBe(false);
    expect(s.bySender.get(A2P1)).toEqual(new Set([T1]));
    expect(s.byRecipient.get(A2P2)).toEqual(new Set([T1]));
  });

  it('given a task, when a recipient puts a result, then the creator reads it', () => {
    const s = given(created(T1));
    applyEvent(s, put(T1, A1P2, 'succeeded'), 2, 512);
    const results = resultsFor(s.tasks.get(T1)!, A1P1);
    expect(results).toEqual([{ from: A1P2, to: [A1P1], status: 'succeeded', receivedAt: 2_000, seq: 2, bytes: 512 }]);
  });

  it('given a task, when a non-recipient puts a result, then it is ignored', () => {
    const s = given(created(T1));
    applyEvent(s, put(T1, A2P2, 'succeeded'), 2);
    expect(s.tasks.get(T1)!.results.size).toBe(0);
  });

  it('given no task, when a result arrives, then nothing is created', () => {
    const s = given();
    applyEvent(s, put(T1, A1P2, 'succeeded'), 1);
    expect(s.tasks.size).toBe(0);
    expect(s.lastSeq).toBe(1);
  });

  it('given a task, when a result arrives at or after expiresAt, then it is ignored', () => {
    const s = given(created(T1));
    applyEvent(s, put(T1, A1P2, 'succeeded', { receivedAt: 11_000 }), 2);
    expect(s.tasks.get(T1)!.results.size).toBe(0);
    applyEvent(s, put(T1, A1P2, 'succeeded', { receivedAt: 10_999 }), 3);
    expect(s.tasks.get(T1)!.results.size).toBe(1);
  });

  it('given a tempfailed result, when the same worker succeeds, then the result is replaced with the new seq', () => {
    const s = given(created(T1), put(T1, A1P2, 'tempfailed'));
    applyEvent(s, put(T1, A1P2, 'succeeded'), 3);
    const r = s.tasks.get(T1)!.results.get(A1P2)!;
    expect(r).toMatchObject({ status: 'succeeded', seq: 3 });
    expect(s.tasks.get(T1)!.results.size).toBe(1);
  });

  it.each(['succeeded', 'permfailed'] as WorkStatus[])(
    'given a %s result, when a late claimed arrives from the same worker, then it does not overwrite',
    (final) => {
      const s = given(created(T1), put(T1, A1P2, final));
      applyEvent(s, put(T1, A1P2, 'claimed'), 3);
      expect(s.tasks.get(T1)!.results.get(A1P2)).toMatchObject({ status: final, seq: 2 });
    },
  );

  it('given a succeeded result, when the same worker sends tempfailed, then it replaces it (only claimed is guarded)', () => {
    const s = given(created(T1), put(T1, A1P2, 'succeeded'));
    applyEvent(s, put(T1, A1P2, 'tempfailed'), 3);
    expect(s.tasks.get(T1)!.results.get(A1P2)!.status).toBe('tempfailed');
  });

  it('given a claimed result, when another claimed arrives, then it is replaced', () => {
    const s = given(created(T1), put(T1, A1P2, 'claimed'));
    applyEvent(s, put(T1, A1P2, 'claimed', { message: 'again' }), 3);
    expect(s.tasks.get(T1)!.results.get(A1P2)).toMatchObject({ status: 'claimed', seq: 3 });
  });

  it('keeps the sequence of every event of a task generation, replaced and ignored results too, for the sweeper to remove', () => {
    const s = given(created(T1), put(T1, A1P2, 'claimed'), created(T2), put(T1, A1P2, 'succeeded'), put(T1, A1P2, 'claimed'), put(T1, A2P2, 'succeeded'));
    expect(s.tasks.get(T1)!.logSeqs).toEqual([1, 2, 4, 5, 6]);
    expect(s.tasks.get(T2)!.logSeqs).toEqual([3]);
  });

  it('starts a re-created generation with only its own events', () => {
    const s = given(created(T1), put(T1, A1P2, 'succeeded'));
    applyEvent(s, created(T1, { receivedAt: 12_000, expiresAt: 20_000 }), 3);
    expect(s.tasks.get(T1)!.logSeqs).toEqual([3]);
  });

  it('given a task, when TaskExpired is applied, then the task and its index entries are gone', () => {
    const s = given(created(T1, { to: [A1P2, A2P2] }), created(T2, { to: [A1P2] }));
    applyEvent(s, expired(T1), 3);
    expect(s.tasks.has(T1)).toBe(false);
    expect(s.byRecipient.get(A1P2)).toEqual(new Set([T2]));
    expect(s.byRecipient.has(A2P2)).toBe(false);
    expect(s.bySender.get(A1P1)).toEqual(new Set([T2]));
  });

  it('given a re-created task, when a stale TaskExpired for the old incarnation arrives, then the new task survives', () => {
    const s = given(created(T1), created(T1, { receivedAt: 12_000, expiresAt: 30_000 }));
    applyEvent(s, expired(T1, 11_500), 3);
    expect(liveTask(s, T1, 13_000)).toBeDefined();
  });

  it('ignores TaskExpired for an unknown task', () => {
    const s = given(created(T1));
    applyEvent(s, expired(T2), 2);
    expect(s.tasks.size).toBe(1);
  });

  it('is deterministic: replaying the same events gives equal states', () => {
    const events: BeamEvent[] = [
      created(T1, { to: [A1P2, A2P2] }),
      created(T2, { from: A2P1 }),
      put(T1, A1P2, 'claimed'),
      put(T1, A1P2, 'succeeded'),
      put(T1, A2P2, 'tempfailed'),
      expired(T2),
      created(T3, { receivedAt: 3_000, expiresAt: 9_000 }),
    ];
    expect(given(...events)).toEqual(given(...events));
  });
});

describe('projection views', () => {
  // given: T1 app1.proxy1 -> app1.proxy2 (seq 1); T2 app1.proxy2 -> app1.proxy1, app2.proxy2 (seq 2); T3 app2.proxy1 -> app2.proxy2 (seq 3, short-lived)
  function world(): ProjectionState {
    return given(created(T1), created(T2, { from: A1P2, to: [A1P1, A2P2] }), created(T3, { from: A2P1, to: [A2P2], expiresAt: 5_000 }));
  }

  it('lists by from', () => {
    expect(ids(tasksMatching(world(), { from: A1P1 }, 2_000))).toEqual([T1]);
  });

  it('lists by to', () => {
    expect(ids(tasksMatching(world(), { to: A2P2 }, 2_000))).toEqual([T2, T3]);
  });

  it('matches from OR to, ordered by seq, without duplicates', () => {
    expect(ids(tasksMatching(world(), { from: A1P2, to: A1P2 }, 2_000))).toEqual([T1, T2]);
  });

  it('hides expired tasks from listings and lookups at once', () => {
    const s = world();
    expect(ids(tasksMatching(s, { to: A2P2 }, 5_000))).toEqual([T2]);
    expect(liveTask(s, T3, 5_000)).toBeUndefined();
    expect(liveTask(s, T3, 4_999)).toBeDefined();
  });

  it('returns nothing for an empty query or an unknown app', () => {
    expect(tasksMatching(world(), {}, 2_000)).toEqual([]);
    expect(tasksMatching(world(), { to: 'nobody.proxy9.broker' }, 2_000)).toEqual([]);
  });

  it('todoFor alone defaults to to = that app and drops tasks it finished or claimed', () => {
    const s = world();
    expect(ids(tasksMatching(s, { todoFor: A2P2 }, 2_000))).toEqual([T2, T3]);
    applyEvent(s, put(T2, A2P2, 'claimed'), 10);
    expect(ids(tasksMatching(s, { todoFor: A2P2 }, 2_000))).toEqual([T3]);
    applyEvent(s, put(T3, A2P2, 'tempfailed'), 11);
    expect(ids(tasksMatching(s, { todoFor: A2P2 }, 2_000))).toEqual([T3]);
    applyEvent(s, put(T3, A2P2, 'permfailed'), 12);
    expect(ids(tasksMatching(s, { todoFor: A2P2 }, 2_000))).toEqual([]);
  });

  it('todoFor with an explicit to/from still requires the app to be a recipient', () => {
    const s = world();
    expect(ids(tasksMatching(s, { to: A2P2, todoFor: A2P2 }, 2_000))).toEqual([T2, T3]);
    expect(ids(tasksMatching(s, { from: A2P1, todoFor: A2P2 }, 2_000))).toEqual([T3]);
    expect(ids(tasksMatching(s, { from: A1P1, todoFor: A1P1 }, 2_000))).toEqual([]);
  });

  it('resultsFor returns only results addressed to the reader, ordered by seq', () => {
    const s = given(
      created(T1, { to: [A1P2, A2P2] }),
      put(T1, A2P2, 'succeeded', { to: [A1P1] }),
      put(T1, A1P2, 'claimed', { to: [A1P1, A2P1] }),
      put(T1, A1P2, 'succeeded', { to: [A1P1, A2P1] }),
    );
    const task = s.tasks.get(T1)!;
    expect(resultsFor(task, A1P1).map((r) => [r.from, r.status, r.seq])).toEqual([
      [A2P2, 'succeeded', 2],
      [A1P2, 'succeeded', 4],
    ]);
    expect(resultsFor(task, A2P1).map((r) => r.from)).toEqual([A1P2]);
    expect(resultsFor(task, A1P2)).toEqual([]);
  });

  it('expiredTasks lists what the sweeper must expire, by seq', () => {
    const s = world();
    expect(ids(expiredTasks(s, 4_999))).toEqual([]);
    expect(ids(expiredTasks(s, 5_000))).toEqual([T3]);
    expect(ids(expiredTasks(s, 11_000))).toEqual([T1, T2, T3]);
    expect(isExpired(s.tasks.get(T1)!, 10_999)).toBe(false);
    expect(isExpired(s.tasks.get(T1)!, 11_000)).toBe(true);
  });

  it('the sweeper loop expiredTasks -> TaskExpired empties the state', () => {
    const s = world();
    let seq = s.lastSeq;
    for (const t of expiredTasks(s, 11_000)) applyEvent(s, expired(t.taskId, 11_000), ++seq);
    expect(s.tasks.size).toBe(0);
    expect(s.byRecipient.size).toBe(0);
    expect(s.bySender.size).toBe(0);
  });
});

describe('usage per proxy (the quotas)', () => {
  /** Events with seq 1..n, each `bytes` long in the log. */
  function sized(...events: [BeamEvent, number][]): ProjectionState {
    const s = emptyProjection();
    events.forEach(([e, bytes], i) => applyEvent(s, e, i + 1, bytes));
    return s;
  }

  it("charges a task to its creator's proxy and a result to the writer's, replaced results included", () => {
    const s = sized([created(T1), 100], [created(T2, { from: A2P1 }), 50], [put(T1, A1P2, 'claimed'), 10], [put(T1, A1P2, 'succeeded'), 30]);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 2, bytes: 150 });
    expect(usageOfProxy(s, 'proxy2.broker')).toEqual({ tasks: 0, bytes: 40 });
    expect(usageOfProxy(s, 'proxy3.broker')).toEqual({ tasks: 0, bytes: 0 });
  });

  it('charges the blobs events name to their writers, lists them on the task, and gives them back at expiry', () => {
    const taskBlob = { uploader: 'proxy1.broker', sha256: 'a'.repeat(43), size: 5_000 };
    const resultBlob = { uploader: 'proxy2.broker', sha256: 'b'.repeat(43), size: 7_000 };
    const s = sized([created(T1, { blob: taskBlob }), 100], [put(T1, A1P2, 'succeeded', { blob: resultBlob }), 30]);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 1, bytes: 5_100 });
    expect(usageOfProxy(s, 'proxy2.broker')).toEqual({ tasks: 0, bytes: 7_030 });
    expect(s.tasks.get(T1)?.blobs).toEqual([taskBlob, resultBlob]);
    expect(expiredTasks(s, 11_000).map((t) => t.blobs)).toEqual([[taskBlob, resultBlob]]);
    applyEvent(s, expired(T1), 3);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 0, bytes: 0 });
    expect(usageOfProxy(s, 'proxy2.broker')).toEqual({ tasks: 0, bytes: 0 });
  });

  it('keeps no blob list for a task whose events name none', () => {
    expect(sized([created(T1), 100], [put(T1, A1P2, 'succeeded'), 30]).tasks.get(T1)?.blobs).toBeUndefined();
  });

  it('gives everything back when the task expires, and forgets senders that hold nothing', () => {
    const s = sized([created(T1), 100], [put(T1, A1P2, 'succeeded'), 30], [created(T2), 70]);
    applyEvent(s, expired(T1), 4);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 1, bytes: 70 });
    expect(usageOfProxy(s, 'proxy2.broker')).toEqual({ tasks: 0, bytes: 0 });
    expect([...s.usage.keys()]).toEqual([A1P1]);
  });

  it('charges a re-created generation afresh: the expired one is given back first', () => {
    const s = sized([created(T1), 100], [put(T1, A1P2, 'succeeded'), 30], [created(T1, { receivedAt: 12_000, expiresAt: 20_000 }), 60]);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 1, bytes: 60 });
    expect(usageOfProxy(s, 'proxy2.broker')).toEqual({ tasks: 0, bytes: 0 });
  });

  it('does not charge a create-once duplicate, and counts a proxy signing for itself', () => {
    const s = sized([created(T1), 100], [created(T1, { message: 'other' }), 100], [created(T2, { from: 'proxy1.broker' }), 5]);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 2, bytes: 105 });
  });

  it('does not count the apps of a proxy whose id merely ends the same way', () => {
    const s = sized([created(T1, { from: 'app1.xproxy1.broker' }), 100]);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 0, bytes: 0 });
  });
});
