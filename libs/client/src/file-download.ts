/**
 * `GET /v1/files/{id}` (Beamline's own addition to the app API) as a Node `Readable` that resumes.
 *
 * The proxy sends `Content-Length` bytes, and a download it must stop (a part of the file failed its check,
 * the broker went away) is cut short: fewer bytes, then the connection closes. A short body is therefore
 * never the end of the file. The stream asks again from the first missing byte (`Range: bytes=<n>-`), with
 * backoff, up to the client's retries; a connection that brought bytes resets the count. When the retries
 * are spent, or the proxy refuses the resumed request (404: the file expired or was deleted), the stream
 * fails with a {@link BeamError} of code `truncated` (its `cause` says why); it never ends early cleanly.
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { BeamAbortError, BeamError, httpError } from './errors';
import { headerOf, openResponse, readText, type Transport } from './http';
import { backoffDelay, isTransient, sleep, withRetries, type RetryPolicy } from './retry';
import type { DownloadFileOptions } from './types';
import { segment } from './wire';

/** One answer of the route: its body, and where it ends (the file's size). */
interface OpenedRange {
  res: IncomingMessage;
  end: number;
  metadata: unknown;
}

/** Where a download comes from. */
interface DownloadContext {
  transport: Transport;
  policy: RetryPolicy;
  path: string;
  id: string;
}

/** Opens a download at `offset` (retrying transient failures) and answers the stream of its bytes. */
export async function openDownload(transport: Transport, policy: RetryPolicy, id: string, opts: DownloadFileOptions): Promise<BeamFileDownload> {
  const offset = opts.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
  const path = `/v1/files/${segment(id, 'id')}`;
  const first = await withRetries(() => openRange(transport, path, offset, undefined, opts.signal), policy, opts.signal);
  return new BeamFileDownload({ transport, policy, path, id }, offset, first, opts.signal);
}

/** One request from byte `position`: 200 from the start, 206 (with a matching `Content-Range`) from elsewhere. */
async function openRange(transport: Transport, path: string, position: number, end: number | undefined, signal?: AbortSignal): Promise<OpenedRange> {
  const what = `GET ${path}`;
  const headers: Record<string, string> = position > 0 ? { range: `bytes=${position}-` } : {};
  const res = await openResponse(transport, { method: 'GET', path, headers, signal });
  const status = res.statusCode ?? 0;
  if (status !== 200 && status !== 206) throw httpError(what, status, await readText(res, what, signal), headerOf(res.headers, 'retry-after'));
  const length = Number(headerOf(res.headers, 'content-length') ?? NaN);
  const range = /^bytes (\d+)-\d+\/(\d+)$/.exec(headerOf(res.headers, 'content-range') ?? '');
  const start = status === 206 && range ? Number(range[1]) : 0;
  const problem = !Number.isSafeInteger(length)
    ? 'no Content-Length'
    : start !== position
      ? `the answer starts at byte ${start}, not ${position}`
      : end !== undefined && position + length !== end
        ? `the file's size changed from ${end} to ${position + length}`
        : undefined;
  if (problem !== undefined) {
    res.destroy();
    throw new BeamError(`${what}: ${problem}`, { status, code: 'invalid_response' });
  }
  return { res, end: position + length, metadata: metadataOf(headerOf(res.headers, 'beam-metadata')) };
}

/** `Beam-Metadata` parsed; null when absent; the text itself when it is not JSON. */
function metadataOf(header: string | undefined): unknown {
  if (header === undefined) return null;
  try {
    return JSON.parse(header) as unknown;
  } catch {
    return header;
  }
}

/**
 * The bytes of a file from an offset, made by {@link BeamClient.downloadFile}. It emits `'error'` with a
 * {@link BeamError} rather than end before the file's last byte: code `truncated` when the download could not
 * be completed, `aborted` when the signal fired. Destroy it to stop downloading.
 */
export class BeamFileDownload extends Readable {
  /** The file's id. */
  readonly id: string;
  /** The file's first byte in this stream (the `offset` asked for). */
  readonly offset: number;
  /** The file's size in bytes: the stream ends after byte `size - 1`. */
  readonly size: number;
  /** The JSON the sender sent along (`Beam-Metadata`), or null. */
  readonly metadata: unknown;
  private position: number;
  private current: IncomingMessage | undefined;
  private started = false;
  /** Connections in a row that brought no byte. */
  private failures = 0;
  private wake: (() => void) | undefined;
  private readonly stop = new AbortController();
  private readonly onAbort = (): void => void this.destroy(new BeamAbortError(this.signal?.reason));

  /** @internal Made by {@link BeamClient.downloadFile}. */
  constructor(
    private readonly ctx: DownloadContext,
    offset: number,
    private first: OpenedRange | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    super();
    this.id = ctx.id;
    this.offset = offset;
    this.position = offset;
    this.size = (first as OpenedRange).end;
    this.metadata = (first as OpenedRange).metadata;
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The bytes received so far, counted from the start of the file. */
  get bytesReceived(): number {
    return this.position;
  }

  /** Node's `Readable` hook (the stream asks for more bytes); not to be called directly. */
  override _read(): void {
    if (this.started) return this.wake?.();
    this.started = true;
    void this.run();
  }

  /** @internal */
  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.stop.abort(err ?? undefined);
    (this.current ?? this.first?.res)?.destroy();
    this.wake?.();
    callback(err);
  }

  private async run(): Promise<void> {
    let next = this.first as OpenedRange;
    this.first = undefined;
    try {
      for (;;) {
        const before = this.position;
        const cut = await this.drain(next.res);
        if (this.destroyed) return;
        if (cut === undefined) return void this.push(null);
        if (this.position > before) this.failures = 0;
        next = await this.reconnect(cut);
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  /** Pushes one answer's bytes; resolves undefined at the file's end, else with why the answer stopped short. */
  private async drain(res: IncomingMessage): Promise<unknown> {
    this.current = res;
    try {
      for await (const chunk of res) {
        this.position += (chunk as Buffer).length;
        if (!this.push(chunk)) await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        if (this.destroyed) return undefined;
      }
    } catch (err) {
      return err ?? new Error('the connection failed');
    } finally {
      res.destroy();
      this.current = undefined;
    }
    return this.position < this.size ? new Error(`the answer ended after byte ${this.position} of ${this.size}`) : undefined;
  }

  /** Asks again from the first missing byte, with backoff; throws `truncated` when it cannot. */
  private async reconnect(cut: unknown): Promise<OpenedRange> {
    let reason = cut;
    for (;;) {
      if (this.failures >= this.ctx.policy.retries) throw this.truncated(reason);
      await sleep(backoffDelay(this.failures++, this.ctx.policy), this.stop.signal);
      try {
        return await openRange(this.ctx.transport, this.ctx.path, this.position, this.size, this.stop.signal);
      } catch (err) {
        if (this.destroyed) throw err;
        if (!isTransient(err)) throw this.truncated(err);
        reason = err;
      }
    }
  }

  private truncated(cause: unknown): BeamError {
    const why = cause instanceof Error ? `: ${cause.message}` : '';
    return new BeamError(`GET ${this.ctx.path}: the download stopped at byte ${this.position} of ${this.size}${why}`, { code: 'truncated', cause });
  }
}
