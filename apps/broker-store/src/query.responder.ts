/**
 * Answers broker-api's view queries over NATS request/reply (queue group: replicas share the load). Answers
 * are references into the log (see store-protocol.ts), sent in frames (chunked-reply.ts), so a listing of any
 * length fits. Nothing a query does can end the process: every failure is logged and answered as an error.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Msg, NatsConnection } from '@nats-io/nats-core';
import { liveTask, resultsFor, socketsFor, tasksMatching, usageOfProxy } from '@beamline/domain';
import {
  decodeJson,
  encodeJson,
  NATS_CONNECTION,
  parseStoreQuery,
  safeCallback,
  serveChunked,
  STORE_QUEUE_GROUP,
  subjects,
  type ChunkedAnswer,
  type StoreErrorCode,
  type StoreQuery,
} from '@beamline/nats';
import { loadStoreConfig } from './config';
import { ProjectionService } from './projection.service';

@Injectable()
export class QueryResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Queries');
  private readonly config = loadStoreConfig();
  private subs: { unsubscribe(): void }[] = [];

  constructor(
    @Inject(NATS_CONNECTION) private readonly nc: NatsConnection,
    private readonly projection: ProjectionService,
  ) {}

  onApplicationBootstrap(): void {
    this.subs.push(
      serveChunked(this.nc, {
        subject: subjects.storeQuery,
        queue: STORE_QUEUE_GROUP,
        answer: (data) => this.answer(data),
        onError: (message) => this.logger.error(message),
      }),
      this.nc.subscribe(subjects.storePing, {
        callback: safeCallback(
          'ping',
          (message) => this.logger.error(message),
          (msg) => this.answerPing(msg),
        ),
      }),
    );
  }

  onApplicationShutdown(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  private async answer(data: Uint8Array): Promise<ChunkedAnswer> {
    await this.projection.ready;
    let query: StoreQuery;
    try {
      query = parseStoreQuery(decodeJson(data));
    } catch (err) {
      this.logger.warn(`bad query: ${String(err)}`);
      return refusal('bad_query', String((err as Error).message ?? err));
    }
    // Read-your-writes: wait (bounded) until the writer's event is applied; a replica still behind says so,
    // and broker-api asks another one rather than serve a stale answer (a 404 for a task that exists).
    if (query.minSeq !== undefined && !(await this.projection.waitFor(query.minSeq, this.config.catchUpTimeoutMs))) {
      return refusal('behind', `replica has applied sequence ${this.projection.lastSeq}, not yet ${query.minSeq}`);
    }
    return this.evaluate(query, Date.now());
  }

  private async answerPing(msg: Msg): Promise<void> {
    await this.projection.ready;
    msg.respond(encodeJson({ seq: this.projection.lastSeq }));
  }

  private evaluate(query: StoreQuery, now: number): ChunkedAnswer {
    const { state } = this.projection;
    const seq = state.lastSeq;
    switch (query.q) {
      case 'tasks': {
        const tasks = tasksMatching(state, { from: query.from, to: query.to, todoFor: query.todo ? query.asApp : undefined }, now);
        return { head: { seq }, items: tasks.map((t) => ({ seq: t.seq, bytes: t.bytes, expiresAt: t.expiresAt })) };
      }
      case 'task': {
        const task = liveTask(state, query.taskId, now);
        if (!task || (task.from !== query.asApp && !task.to.includes(query.asApp))) return refusal('not_found', `task ${query.taskId} not found`);
        return { head: { seq }, items: [{ seq: task.seq, bytes: task.bytes, expiresAt: task.expiresAt }] };
      }
      case 'results': {
        const task = liveTask(state, query.taskId, now);
        if (!task) return refusal('not_found', `task ${query.taskId} not found`);
        if (task.from !== query.asApp) return refusal('forbidden', `only the task's creator may read its results`);
        const results = resultsFor(task, query.asApp).map((r) => ({ seq: r.seq, bytes: r.bytes, status: r.status }));
        return { head: { seq, expiresAt: task.expiresAt }, items: results };
      }
      case 'sockets':
        return { head: { seq }, items: socketsFor(state, query.asApp, now).map((s) => ({ seq: s.seq, bytes: s.bytes, expiresAt: s.expiresAt })) };
      case 'usage':
        return { head: { seq, ...usageOfProxy(state, query.asApp) }, items: [] };
    }
  }
}

function refusal(error: StoreErrorCode, message: string): ChunkedAnswer {
  return { error: { error, message } };
}
