/**
 * Reads of tasks and results, answered by broker-store, with long polling on top. The store answers with
 * references into the log; the controllers stream the referenced messages (EventReader) once a wait is over.
 */
import { Inject, Injectable } from '@nestjs/common';
import { isWaitSatisfied, NotFound, type TaskQuery, type WaitParams, countTowardsWait } from '@beamline/domain';
import { EventReader, subjects, type ExpiringRef, type ResultRef, type StoreQuery } from '@beamline/nats';
import type { SseWriter } from '@beamline/http';
import { streamEvents } from './event-stream';
import { longPoll } from './long-poll';
import { StoreClient } from './store-client';
import { Wakeups } from './wakeups';

export interface Listing<T> {
  items: T[];
  /** False when the wait ended (time, expiry) before the wait condition held: answered as 206. */
  complete: boolean;
}

@Injectable()
export class TaskQueries {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
    @Inject(EventReader) private readonly reader: EventReader,
  ) {}

  /** At least what the caller saw (`min_seq`) and what this replica wrote or heard of. */
  private atLeast(minSeq: number | undefined, callerSeq: number): number | undefined {
    const seq = Math.max(minSeq ?? 0, callerSeq, this.wakeups.highestSeq);
    return seq > 0 ? seq : undefined;
  }

  private tasksQuery(asApp: string, query: TaskQuery, minSeq: number | undefined): StoreQuery {
    return { q: 'tasks', asApp, from: query.from, to: query.to, todo: query.todoFor !== undefined, minSeq };
  }

  async listTasks(asApp: string, query: TaskQuery, wait: WaitParams, signal: AbortSignal, callerSeq = 0): Promise<Listing<ExpiringRef>> {
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(asApp)],
      fetch: async (minSeq) => (await this.store.query(this.tasksQuery(asApp, query, this.atLeast(minSeq, callerSeq)))).items as ExpiringRef[],
      satisfied: (tasks) => isWaitSatisfied(tasks.length, wait),
      waitMs: wait.waitMs,
      signal,
    });
    return { items: value, complete: satisfied };
  }

  /** One task; with a wait it long-polls for the task to appear, otherwise 404 at once. */
  async getTask(asApp: string, taskId: string, wait: WaitParams, signal: AbortSignal, callerSeq = 0): Promise<ExpiringRef> {
    const { value } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(asApp)],
      fetch: async (minSeq) => {
        try {
          return (await this.store.query({ q: 'task', asApp, taskId, minSeq: this.atLeast(minSeq, callerSeq) })).items[0];
        } catch (err) {
          if (err instanceof NotFound) return undefined;
          throw err;
        }
      },
      satisfied: (task) => task !== undefined,
      waitMs: wait.waitMs,
      signal,
    });
    if (!value) throw new NotFound(`task ${taskId} not found`);
    return value;
  }

  async listResults(asApp: string, taskId: string, wait: WaitParams, signal: AbortSignal, callerSeq = 0): Promise<Listing<ResultRef>> {
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyTask(taskId)],
      fetch: (minSeq) => this.store.query({ q: 'results', asApp, taskId, minSeq: this.atLeast(minSeq, callerSeq) }),
      satisfied: (r) => isWaitSatisfied(countTowardsWait(r.items.map((x) => x.status)), wait),
      endsAt: (r) => r.expiresAt,
      waitMs: wait.waitMs,
      signal,
    });
    // A task that expired while we waited takes its results with it: the waiter ends with 206 and nothing.
    if (!satisfied && Date.now() >= value.expiresAt) return { items: [], complete: false };
    return { items: value.items, complete: satisfied };
  }

  streamResults(asApp: string, taskId: string, wait: WaitParams, afterSeq: number, writer: () => SseWriter, signal: AbortSignal, callerSeq = 0): Promise<void> {
    return streamEvents(this.wakeups, this.reader, writer, {
      wakeOn: [subjects.notifyTask(taskId)],
      fetch: async (minSeq) => {
        const r = await this.store.query({ q: 'results', asApp, taskId, minSeq: this.atLeast(minSeq, callerSeq) });
        return { items: r.items, expiresAt: r.expiresAt };
      },
      count: (results) => countTowardsWait(results.map((x) => x.status)),
      eventName: 'new_result',
      wait,
      afterSeq,
      signal,
    });
  }

  streamTasks(asApp: string, query: TaskQuery, wait: WaitParams, afterSeq: number, writer: () => SseWriter, signal: AbortSignal, callerSeq = 0): Promise<void> {
    return streamEvents(this.wakeups, this.reader, writer, {
      wakeOn: [subjects.notifyApp(asApp)],
      fetch: async (minSeq) => ({ items: (await this.store.query(this.tasksQuery(asApp, query, this.atLeast(minSeq, callerSeq)))).items as ExpiringRef[] }),
      count: (tasks) => tasks.length,
      eventName: 'new_task',
      wait,
      afterSeq,
      signal,
    });
  }
}
