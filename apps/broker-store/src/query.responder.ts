/**
 * Answers broker-api's view queries over NATS request/reply (queue group: replicas share the load). Answers
 * are references into the log (see store-protocol.ts), sent in frames (chunked-reply.ts), so a listing of any
 * length fits. Nothing a query does can end the process: every failure is logged and answered as an error.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { filesFor, liveFileFor, liveTask, resultsFor, socketsFor, tasksMatching, usageOfProxy } from '@beamline/domain';
import { StoreResponder, type ChunkedAnswer, type StoreErrorCode, type StoreQuery } from '@beamline/nats';
import { STORE_CONFIG, type StoreConfig } from './config';
import { ProjectionService } from './projection.service';

@Injectable()
export class QueryResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Queries');
  private serving: { close(): void } | undefined;

  constructor(
    private readonly responder: StoreResponder,
    private readonly projection: ProjectionService,
    @Inject(STORE_CONFIG) private readonly config: StoreConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.serving = this.responder.serve({
      answer: (query) => this.answer(query),
      appliedSeq: async () => {
        await this.projection.ready;
        return this.projection.lastSeq;
      },
      onError: (message) => this.logger.error(message),
      onBadQuery: (message) => this.logger.warn(message),
    });
  }

  onApplicationShutdown(): void {
    this.serving?.close();
  }

  private async answer(query: StoreQuery): Promise<ChunkedAnswer> {
    await this.projection.ready;
    // Read-your-writes: wait (bounded) until the writer's event is applied; a replica still behind says so,
    // and broker-api asks another one rather than serve a stale answer (a 404 for a task that exists).
    if (query.minSeq !== undefined && !(await this.projection.waitFor(query.minSeq, this.config.catchUpTimeoutMs))) {
      return refusal('behind', `replica has applied sequence ${this.projection.lastSeq}, not yet ${query.minSeq}`);
    }
    return this.evaluate(query, Date.now());
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
      case 'files':
        return { head: { seq }, items: filesFor(state.files, query.asApp, now).map((f) => ({ seq: f.seq, bytes: f.bytes, expiresAt: f.expiresAt })) };
      case 'file': {
        const file = liveFileFor(state.files, query.fileId, query.asApp, now);
        if (!file) return refusal('not_found', `file ${query.fileId} not found`);
        return { head: { seq }, items: [{ seq: file.seq, bytes: file.bytes, expiresAt: file.expiresAt }] };
      }
      case 'usage':
        return { head: { seq, ...usageOfProxy(state, query.asApp) }, items: [] };
    }
  }
}

function refusal(error: StoreErrorCode, message: string): ChunkedAnswer {
  return { error: { error, message } };
}
