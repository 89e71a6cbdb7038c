/**
 * Reads of tasks and results, answered by broker-store, with long polling on top: the query handlers answer
 * one request each; TaskStreams serves the SSE variants. The store answers with references into the log; the
 * controllers stream the referenced messages (EventReader) once a wait is over.
 */
import { Inject, Injectable } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { countTowardsWait, isWaitSatisfied, NotFound, type TaskQuery } from '@beamline/domain';
import { EventReader, subjects, type ExpiringRef, type ResultRef, type StoreQuery } from '@beamline/nats';
import type { SseWriter } from '@beamline/http';
import { streamEvents } from '../event-stream';
import { longPoll } from '../long-poll';
import { StoreClient } from '../store-client';
import { minSeqFor, type Listing, type ReadContext } from '../read-context';
import { Wakeups } from '../wakeups';

function tasksQuery(asApp: string, query: TaskQuery, minSeq: number | undefined): StoreQuery {
  return { q: 'tasks', asApp, from: query.from, to: query.to, todo: query.todoFor !== undefined, minSeq };
}

export class ListTasksQuery extends Query<Listing<ExpiringRef>> {
  constructor(
    readonly read: ReadContext,
    readonly query: TaskQuery,
  ) {
    super();
  }
}

/** One task; with a wait it long-polls for the task to appear, otherwise 404 at once. */
export class GetTaskQuery extends Query<ExpiringRef> {
  constructor(
    readonly read: ReadContext,
    readonly taskId: string,
  ) {
    super();
  }
}

export class ListResultsQuery extends Query<Listing<ResultRef>> {
  constructor(
    readonly read: ReadContext,
    readonly taskId: string,
  ) {
    super();
  }
}

@QueryHandler(ListTasksQuery)
export class ListTasksHandler implements IQueryHandler<ListTasksQuery> {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ read, query }: ListTasksQuery): Promise<Listing<ExpiringRef>> {
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(read.asApp)],
      fetch: async (wokenFor) => (await this.store.query(tasksQuery(read.asApp, query, minSeqFor(this.wakeups, wokenFor, read)))).items as ExpiringRef[],
      satisfied: (tasks) => isWaitSatisfied(tasks.length, read.wait),
      waitMs: read.wait.waitMs,
      signal: read.signal,
    });
    return { items: value, complete: satisfied };
  }
}

@QueryHandler(GetTaskQuery)
export class GetTaskHandler implements IQueryHandler<GetTaskQuery> {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ read, taskId }: GetTaskQuery): Promise<ExpiringRef> {
    const { value } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyApp(read.asApp)],
      fetch: async (wokenFor) => {
        try {
          return (await this.store.query({ q: 'task', asApp: read.asApp, taskId, minSeq: minSeqFor(this.wakeups, wokenFor, read) })).items[0];
        } catch (err) {
          if (err instanceof NotFound) return undefined;
          throw err;
        }
      },
      satisfied: (task) => task !== undefined,
      waitMs: read.wait.waitMs,
      signal: read.signal,
    });
    if (!value) throw new NotFound(`task ${taskId} not found`);
    return value;
  }
}

@QueryHandler(ListResultsQuery)
export class ListResultsHandler implements IQueryHandler<ListResultsQuery> {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ read, taskId }: ListResultsQuery): Promise<Listing<ResultRef>> {
    const { value, satisfied } = await longPoll(this.wakeups, {
      wakeOn: [subjects.notifyTask(taskId)],
      fetch: (wokenFor) => this.store.query({ q: 'results', asApp: read.asApp, taskId, minSeq: minSeqFor(this.wakeups, wokenFor, read) }),
      satisfied: (r) => isWaitSatisfied(countTowardsWait(r.items.map((x) => x.status)), read.wait),
      endsAt: (r) => r.expiresAt,
      waitMs: read.wait.waitMs,
      signal: read.signal,
    });
    // A task that expired while we waited takes its results with it: the waiter ends with 206 and nothing.
    if (!satisfied && Date.now() >= value.expiresAt) return { items: [], complete: false };
    return { items: value.items, complete: satisfied };
  }
}

/** The SSE variants of the list reads: they write to the response as results arrive, so they are no query. */
@Injectable()
export class TaskStreams {
  constructor(
    private readonly store: StoreClient,
    private readonly wakeups: Wakeups,
    @Inject(EventReader) private readonly reader: EventReader,
  ) {}

  streamResults(read: ReadContext, taskId: string, afterSeq: number, writer: () => SseWriter): Promise<void> {
    return streamEvents(this.wakeups, this.reader, writer, {
      wakeOn: [subjects.notifyTask(taskId)],
      fetch: async (wokenFor) => {
        const r = await this.store.query({ q: 'results', asApp: read.asApp, taskId, minSeq: minSeqFor(this.wakeups, wokenFor, read) });
        return { items: r.items, expiresAt: r.expiresAt };
      },
      count: (results) => countTowardsWait(results.map((x) => x.status)),
      eventName: 'new_result',
      wait: read.wait,
      afterSeq,
      signal: read.signal,
    });
  }

  streamTasks(read: ReadContext, query: TaskQuery, afterSeq: number, writer: () => SseWriter): Promise<void> {
    return streamEvents(this.wakeups, this.reader, writer, {
      wakeOn: [subjects.notifyApp(read.asApp)],
      fetch: async (wokenFor) => ({
        items: (await this.store.query(tasksQuery(read.asApp, query, minSeqFor(this.wakeups, wokenFor, read)))).items as ExpiringRef[],
      }),
      count: (tasks) => tasks.length,
      eventName: 'new_task',
      wait: read.wait,
      afterSeq,
      signal: read.signal,
    });
  }
}
