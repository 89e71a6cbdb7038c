/** Orchestrates the app-facing task operations: validate, protect, forward to the broker, open replies. */
import { Inject, Injectable } from '@nestjs/common';
import { parseResultInput, parseTaskInput, parseUuid, BrokerUnavailable, InvalidInput, Unauthenticated, type WaitParams } from '@beamline/domain';
import { waitUntilShutdown } from '../broker/wait-until-shutdown';
import { BrokerClient, type BrokerResponse } from '../broker/broker-client';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import type { SseWriter } from '@beamline/http';
import { parseEventData, relayEvents, resumeHeader } from './event-relay';
import { mapInOrder } from './in-order';
import { Messages, type ResultOutput, type TaskOutput } from './messages';
import { SharedWaits, type SharedAnswer } from './shared-waits';

/** A listing as it streams from the broker; `items` yields undefined for messages refused here. */
export interface Listing<T> {
  items: AsyncIterable<T | undefined>;
  complete: boolean;
}

/** The most message text a shared long-poll answer holds for its requests (the rest read theirs themselves). */
const MAX_SHARED_ANSWER_CHARS = 8 * 1024 * 1024;

/** Messages verified (and opened) at once per listing: enough to keep the thread pool's cores busy. */
const OPEN_CONCURRENCY = 8;

@Injectable()
export class TasksService {
  /** The newest stream sequence of a write acknowledged to this proxy; reads ask for at least that. */
  private minSeq = 0;
  /** Identical long-polls of one app: one wait at the broker. */
  readonly sharedWaits = new SharedWaits<unknown>();

  constructor(
    private readonly broker: BrokerClient,
    private readonly messages: Messages,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {}

  async create(caller: string, json: unknown): Promise<string> {
    const task = parseTaskInput(json, { maxTtlMs: this.config.maxTtlMs, maxRecipients: this.config.maxRecipients });
    if (task.from !== caller) throw new Unauthenticated(`from: ${task.from} is not the authenticated app ${caller}`, 'from_mismatch');
    const message = await this.messages.sealTask(task);
    this.noteSeq(this.broker.expect(await this.broker.send('POST', '/v1/tasks', { message }), 201));
    return task.id;
  }

  async list(caller: string, raw: Record<string, string | undefined>, wait: WaitParams, signal: AbortSignal): Promise<Listing<TaskOutput>> {
    const { value: res, cutShort } = await waitUntilShutdown(raw, wait, signal, (r, w, s) => this.lines(caller, '/v1/tasks', r, w, s));
    return { items: mapInOrder(res.lines, OPEN_CONCURRENCY, (line) => this.messages.openTask(line, caller)), complete: res.status === 200 && !cutShort };
  }

  async get(caller: string, idParam: string, raw: Record<string, string | undefined>, wait: WaitParams, signal: AbortSignal): Promise<TaskOutput> {
    const id = parseUuid(idParam, 'task id');
    if (wait.waitCount !== undefined && wait.waitCount !== 1) throw new InvalidInput('wait_count: a single task can only be waited for with wait_count=1');
    const { value: answer } = await waitUntilShutdown(raw, wait, signal, (r, w, s) =>
      this.broker.send('GET', `/v1/tasks/${id}${this.queryString(r, caller)}`, undefined, this.waitOptions(w, s)),
    );
    const res = this.broker.expect(answer, 200);
    const task = await this.messages.openOneTask(res.body, caller, id);
    if (!task) throw new BrokerUnavailable(`task ${id}: the broker returned a message that failed verification`, 'verification_failed');
    return task;
  }

  /** Returns true when the result is new (201), false when it replaced an earlier one (204). */
  async putResult(caller: string, idParam: string, appParam: string, json: unknown): Promise<boolean> {
    const id = parseUuid(idParam, 'task id');
    const result = parseResultInput(json, { maxRecipients: this.config.maxRecipients });
    if (result.task !== id) throw new InvalidInput(`task: ${result.task} does not match the task id in the path (${id})`);
    if (result.from !== appParam) throw new InvalidInput(`from: ${result.from} does not match the app id in the path (${appParam})`);
    if (result.from !== caller) throw new Unauthenticated(`from: ${result.from} is not the authenticated app ${caller}`, 'from_mismatch');
    const message = await this.messages.sealResult(result);
    const res = this.broker.expect(await this.broker.send('PUT', `/v1/tasks/${id}/results/${encodeURIComponent(appParam)}`, { message }), 201, 204);
    this.noteSeq(res);
    return res.status === 201;
  }

  async results(
    caller: string,
    idParam: string,
    raw: Record<string, string | undefined>,
    wait: WaitParams,
    signal: AbortSignal,
  ): Promise<Listing<ResultOutput>> {
    const id = parseUuid(idParam, 'task id');
    const { value: res, cutShort } = await waitUntilShutdown(raw, wait, signal, (r, w, s) => this.lines(caller, `/v1/tasks/${id}/results`, r, w, s));
    return { items: mapInOrder(res.lines, OPEN_CONCURRENCY, (line) => this.messages.openResult(line, caller, id)), complete: res.status === 200 && !cutShort };
  }

  /** Results as Server-Sent Events, relayed from the broker and opened here. */
  async streamResults(
    caller: string,
    idParam: string,
    raw: Record<string, string | undefined>,
    afterSeq: number,
    open: () => SseWriter,
    signal: AbortSignal,
  ): Promise<void> {
    const id = parseUuid(idParam, 'task id');
    const upstream = await this.broker.openStream(`/v1/tasks/${id}/results${this.queryString(raw, caller)}`, { signal, headers: resumeHeader(afterSeq) });
    await relayEvents(
      upstream.body,
      open(),
      async (e) => {
        if (e.event !== 'new_result') return { event: e.event ?? 'message', data: e.data };
        const result = await this.messages.openResult(parseEventData(e.data), caller, id);
        return result && { id: e.id, event: 'new_result', data: JSON.stringify(result) };
      },
      signal,
    );
  }

  /** Tasks as Server-Sent Events (`new_task`), relayed from the broker and opened here. */
  async streamTasks(caller: string, raw: Record<string, string | undefined>, afterSeq: number, open: () => SseWriter, signal: AbortSignal): Promise<void> {
    const upstream = await this.broker.openStream(`/v1/tasks${this.queryString(raw, caller)}`, { signal, headers: resumeHeader(afterSeq) });
    await relayEvents(
      upstream.body,
      open(),
      async (e) => {
        if (e.event !== 'new_task') return { event: e.event ?? 'message', data: e.data };
        const task = await this.messages.openTask(parseEventData(e.data), caller);
        return task && { id: e.id, event: 'new_task', data: JSON.stringify(task) };
      },
      signal,
    );
  }

  /**
   * The broker's listing at `path` for `caller`, streamed; a read that waits joins the identical waiting reads
   * of the same app (SharedWaits), and its answer is read whole and shared, up to MAX_SHARED_ANSWER_CHARS of
   * messages: a bigger one (a long-poll for thousands of tasks, or big bodies) each request reads for itself,
   * streamed, once the shared wait is over.
   */
  private async lines(
    caller: string,
    path: string,
    raw: Record<string, string | undefined>,
    wait: WaitParams,
    signal?: AbortSignal,
  ): Promise<{ status: number; lines: AsyncIterable<unknown> }> {
    const streamed = (query: Record<string, string | undefined>, w: WaitParams, s?: AbortSignal) =>
      this.broker.lines(`${path}${this.queryString(query, caller)}`, this.waitOptions(w, s));
    if (wait.waitMs <= 0 || !signal) return streamed(raw, wait, signal);
    const { wait_time: _ownWait, ...rest } = raw;
    const key = `${caller} ${path}?${new URLSearchParams(
      Object.entries(rest)
        .filter((e): e is [string, string] => e[1] !== undefined)
        .sort(),
    ).toString()}`;
    const answer = await this.sharedWaits.read(key, this.minSeq, wait.waitMs, signal, async (waitMs, s): Promise<SharedAnswer<unknown>> => {
      const res = await streamed({ ...rest, wait_time: `${waitMs}ms` }, { ...wait, waitMs }, s);
      const lines: unknown[] = [];
      let chars = 0;
      for await (const line of res.lines) {
        chars += messageChars(line);
        if (chars > MAX_SHARED_ANSWER_CHARS) return { status: res.status, lines: [], tooBig: true };
        lines.push(line);
      }
      return { status: res.status, lines };
    });
    if (answer.tooBig) return streamed({ ...rest, wait_time: '0ms' }, { ...wait, waitMs: 0 }, signal);
    return { status: answer.status, lines: fromArray(answer.lines) };
  }

  private noteSeq(res: BrokerResponse): void {
    const seq = Number(res.headers['beam-seq']);
    if (Number.isSafeInteger(seq) && seq > this.minSeq) this.minSeq = seq;
  }

  /** Re-encodes the app's (validated) query parameters for the broker, adding the acting app and min_seq. */
  private queryString(raw: Record<string, string | undefined>, caller: string): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(raw)) if (v !== undefined) params.set(k, v);
    params.set('beam_app', caller);
    if (this.minSeq > 0) params.set('min_seq', String(this.minSeq));
    return `?${params.toString()}`;
  }

  private waitOptions(wait: WaitParams, signal?: AbortSignal): { timeoutMs: number; signal?: AbortSignal } {
    return { timeoutMs: wait.waitMs + this.config.brokerTimeoutMs, signal };
  }
}

/** The size of a listing line (`{ event: { message, ... } }`): its signed message, which is nearly all of it. */
function messageChars(line: unknown): number {
  const message = (line as { event?: { message?: unknown } } | null)?.event?.message;
  return typeof message === 'string' ? message.length : 1_024;
}

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}
