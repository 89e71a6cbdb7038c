/**
 * The raw wire of an unchanged Samply.Beam app, for the integration tests that pin the wire contract: one
 * request, no retries, and every status, header and body exactly as the proxy answered (a refusal is a value to
 * check, not an error). Tests of flows (round trips, sockets, files) use @beamline/client (`t.beam1`, `t.beam2`).
 */
import { randomUUID } from 'node:crypto';

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export class AppClient {
  constructor(
    readonly proxyUrl: string,
    readonly appId: string,
    readonly key = 'App1Secret',
  ) {}

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const res = await fetch(this.proxyUrl + path, {
      method,
      headers: { authorization: `ApiKey ${this.appId} ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  postTask(task: object): Promise<Reply> {
    return this.request('POST', '/v1/tasks', task);
  }

  putResult(taskId: string, result: object): Promise<Reply> {
    return this.request('PUT', `/v1/tasks/${taskId}/results/${this.appId}`, result);
  }

  get(path: string): Promise<Reply> {
    return this.request('GET', path);
  }
}

/** A task in Samply.Beam's shape, from `from` to `to`, with overrides. */
export type TestTask = Record<string, unknown> & { id: string; body: string };

export function newTask(from: string, to: string[], overrides: Record<string, unknown> = {}): TestTask {
  return {
    id: randomUUID(),
    from,
    to,
    body: `work ${randomUUID()}`,
    failure_strategy: { retry: { backoff_millisecs: 1000, max_tries: 5 } },
    ttl: '60s',
    metadata: { kind: 'test' },
    ...overrides,
  } as TestTask;
}

export function newResult(task: { id: unknown }, from: string, to: string[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { from, to, task: task.id, status: 'succeeded', body: `answer ${randomUUID()}`, metadata: null, ...overrides };
}
