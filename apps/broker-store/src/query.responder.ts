/** Answers broker-api's view queries over NATS request/reply (queue group: replicas share the load). */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import { liveTask, resultsFor, socketsFor, tasksMatching, type TaskView } from '@beamline/domain';
import { decodeJson, encodeJson, NATS_CONNECTION, STORE_QUEUE_GROUP, subjects, type StoreQuery, type StoreReply, type TaskItem } from '@beamline/nats';
import { loadStoreConfig } from './config';
import { ProjectionService } from './projection.service';

@Injectable()
export class QueryResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Queries');
  private readonly config = loadStoreConfig();
  private subs: Subscription[] = [];

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection, private readonly projection: ProjectionService) {}

  onApplicationBootstrap(): void {
    this.subs.push(
      this.nc.subscribe(subjects.storeQuery, { queue: STORE_QUEUE_GROUP, callback: (err, msg) => {
          if (!err) void this.answer(msg);
        } }),
      this.nc.subscribe(subjects.storePing, { callback: (err, msg) => {
          if (!err) void this.projection.ready.then(() => msg.respond(encodeJson({ seq: this.projection.lastSeq })));
        } }),
    );
  }

  onApplicationShutdown(): void {
    for (const s of this.subs) s.unsubscribe();
  }

  private async answer(msg: Msg): Promise<void> {
    let reply: StoreReply;
    await this.projection.ready;
    try {
      const query = decodeJson(msg.data) as StoreQuery;
      // Read-your-writes: wait (bounded) until the writer's event is applied; a replica still behind says so,
      // and broker-api asks another one rather than serve a stale answer (a 404 for a task that exists).
      if (query.minSeq !== undefined && !(await this.projection.waitFor(query.minSeq, this.config.catchUpTimeoutMs))) {
        reply = { ok: false, error: 'behind', message: `replica has applied sequence ${this.projection.lastSeq}, not yet ${query.minSeq}` };
      } else {
        reply = this.evaluate(query, Date.now());
      }
    } catch (err) {
      this.logger.warn(`bad query: ${String(err)}`);
      reply = { ok: false, error: 'bad_query', message: String(err) };
    }
    msg.respond(encodeJson(reply));
  }

  private evaluate(query: StoreQuery, now: number): StoreReply {
    const { state } = this.projection;
    const seq = state.lastSeq;
    switch (query.q) {
      case 'tasks': {
        const tasks = tasksMatching(state, { from: query.from, to: query.to, todoFor: query.todo ? query.asApp : undefined }, now);
        return { ok: true, seq, tasks: tasks.map(toItem) };
      }
      case 'task': {
        const task = liveTask(state, query.taskId, now);
        if (!task || (task.from !== query.asApp && !task.to.includes(query.asApp))) return { ok: false, error: 'not_found', message: `task ${query.taskId} not found` };
        return { ok: true, seq, task: toItem(task) };
      }
      case 'results': {
        const task = liveTask(state, query.taskId, now);
        if (!task) return { ok: false, error: 'not_found', message: `task ${query.taskId} not found` };
        if (task.from !== query.asApp) return { ok: false, error: 'forbidden', message: `only the task's creator may read its results` };
        const results = resultsFor(task, query.asApp).map((r) => ({ message: r.message, status: r.status, seq: r.seq }));
        return { ok: true, seq, results, expiresAt: task.expiresAt };
      }
      case 'sockets':
        return { ok: true, seq, sockets: socketsFor(state, query.asApp, now).map((s) => ({ message: s.message, expiresAt: s.expiresAt, seq: s.seq })) };
      default:
        return { ok: false, error: 'bad_query', message: 'unknown query' };
    }
  }
}

function toItem(task: TaskView): TaskItem {
  return { message: task.message, expiresAt: task.expiresAt, seq: task.seq };
}
