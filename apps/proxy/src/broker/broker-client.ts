/**
 * The proxy's only connection to the outside: outbound HTTP(S) to the broker. Every request is signed
 * (method, path, query, body digest, time, nonce). Broker answers are mapped back to typed errors, and
 * transport failures to 502/504 — never to a crash.
 */
import { Inject, Injectable } from '@nestjs/common';
import { request } from 'undici';
import { BODY_DIGEST_HEADER, requestBodyDigest, signRequest } from '@beamline/crypto';
import { beamlineVersion, currentRequestId, newRequestId, readEventLines, REQUEST_ID_HEADER, VERSION_HEADER, VersionWatch } from '@beamline/http';
import { BrokerTimeout, BrokerUnavailable, parseDuration } from '@beamline/domain';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { brokerError } from './broker-errors';
import { BrokerSession } from './broker-session';
import { openBrokerUpgrade, type Upgraded } from './broker-upgrade';
import { Egress } from './egress';
import { ProxyIdentity } from './proxy-identity';

/**
 * Answers that mean "this broker replica (or its NATS) cannot serve right now": retried like transport errors.
 * Not 507: a full store stays full for longer than a retry budget, and only the app can decide to wait.
 */
const RETRYABLE_STATUS = new Set([502, 503, 504]);
const RETRY_FIRST_DELAY_MS = 100;
const RETRY_MAX_DELAY_MS = 2_000;

export interface BrokerResponse {
  status: number;
  /** Parsed JSON or text; with `stream`, a 2xx answer's body as it arrives instead. */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

/** A 2xx answer of event lines (see libs/http event-lines.ts), read as it arrives. */
export interface BrokerLines {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Each line's JSON; throws IncompleteAnswer (or the transport's error) when the answer is cut. */
  lines: AsyncIterable<unknown>;
}

export interface SendOptions {
  /** How long the broker may take (long polls pass their wait time plus a margin). */
  timeoutMs?: number;
  /** Aborted when the app goes away. */
  signal?: AbortSignal;
  /** Send unsigned (only the public certificate directory). */
  anonymous?: boolean;
  /** Authenticate with a request signature even when sessions are in use (opening a session). */
  signed?: boolean;
  /**
   * Hand a 2xx body over as it arrives rather than reading it whole. `timeoutMs` then bounds the wait for the
   * answer's head, and the body may pause for at most BROKER_TIMEOUT between chunks.
   */
  stream?: boolean;
  /** The body's type when `payload` is a Buffer sent as it is (JSON otherwise). */
  contentType?: string;
}

@Injectable()
export class BrokerClient {
  /** Warns once when the broker answers with another Beamline version than ours. */
  private readonly versions = new VersionWatch();

  constructor(
    private readonly identity: ProxyIdentity,
    private readonly session: BrokerSession,
    private readonly egress: Egress,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {}

  /**
   * Sends one request to the broker. Transport failures (refused, reset, timeout) and 502/503/504 answers are
   * retried with backoff (100 ms doubling, capped at 2 s) for up to `BROKER_RETRY_BUDGET` (30 s) before the
   * caller sees the error: a broker-api replica or NATS node that dies, and the leader election that follows, is
   * then latency, not an error, for the app. Writes resend the
   * same body — the same signed message, which the broker deduplicates (Nats-Msg-Id, create-once digest) —
   * with a fresh request authentication; a long-poll's `wait_time` is shortened by the time already waited.
   */
  async send(method: string, pathAndQuery: string, payload?: unknown, opts: SendOptions = {}): Promise<BrokerResponse> {
    // Serialised once: every attempt carries exactly the same bytes.
    const body = payload === undefined ? undefined : Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
    const started = Date.now();
    const waitMs = waitTimeOf(pathAndQuery);
    for (let attempt = 0; ; attempt++) {
      let path = pathAndQuery;
      let attemptOpts = opts;
      if (attempt > 0 && waitMs !== undefined) {
        const elapsed = Date.now() - started;
        path = withWaitTime(pathAndQuery, Math.max(1, waitMs - elapsed));
        if (opts.timeoutMs !== undefined) attemptOpts = { ...opts, timeoutMs: Math.max(this.config.brokerTimeoutMs, opts.timeoutMs - elapsed) };
      }
      let failure: BrokerResponse | Error;
      try {
        const res = await this.sendWithSession(method, path, body, attemptOpts);
        if (!RETRYABLE_STATUS.has(res.status)) return res;
        failure = res;
      } catch (err) {
        if (!(err instanceof BrokerUnavailable || err instanceof BrokerTimeout) || opts.signal?.aborted) throw err;
        // A long-poll that ran into its own timeout is not retried: its wait is over.
        if (err instanceof BrokerTimeout && method === 'GET' && waitMs !== undefined) throw err;
        failure = err;
      }
      if (!(await this.backoff(started, attempt, opts.signal))) {
        if (failure instanceof Error) throw failure;
        return failure;
      }
    }
  }

  private async sendWithSession(method: string, pathAndQuery: string, body: Buffer | undefined, opts: SendOptions): Promise<BrokerResponse> {
    const res = await this.sendOnce(method, pathAndQuery, body, opts);
    if (res.status !== 401 || opts.anonymous || opts.signed || this.config.brokerAuth !== 'session') return res;
    // The broker refused our session (expired, certificate renewed, secret rotated): reopen once and retry.
    this.session.drop();
    return this.sendOnce(method, pathAndQuery, body, opts);
  }

  /**
   * GETs a listing whose answer is event lines (200 or 206 when a wait ran out), retried like `send`, and
   * hands the lines over as they arrive: the proxy never holds a whole listing.
   */
  async lines(pathAndQuery: string, opts: Omit<SendOptions, 'stream'> = {}): Promise<BrokerLines> {
    const res = this.expect(await this.send('GET', pathAndQuery, undefined, { ...opts, stream: true }), 200, 206);
    return { status: res.status, headers: res.headers, lines: readEventLines(res.body as AsyncIterable<Uint8Array>) };
  }

  private async sendOnce(method: string, pathAndQuery: string, body: Buffer | undefined, opts: SendOptions): Promise<BrokerResponse> {
    const headers = await this.headersFor(method, pathAndQuery, body, opts);
    const timeoutMs = opts.timeoutMs ?? this.config.brokerTimeoutMs;
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout.signal, opts.signal]) : timeout.signal;
    try {
      const res = await request(this.config.brokerUrl + pathAndQuery, {
        method: method as 'GET',
        headers,
        body,
        signal,
        dispatcher: this.egress.dispatcher,
        ...(opts.stream ? { bodyTimeout: this.config.brokerTimeoutMs } : {}),
      });
      this.versions.check('broker', res.headers[VERSION_HEADER]);
      if (opts.stream && res.statusCode < 300) {
        clearTimeout(timer); // the head is here; from now on only a stalled body (bodyTimeout) or the app aborts it
        return { status: res.statusCode, body: res.body, headers: res.headers };
      }
      const text = await res.body.text();
      const type = String(res.headers['content-type'] ?? '');
      return { status: res.statusCode, body: type.includes('json') && text ? JSON.parse(text) : text, headers: res.headers };
    } catch (err) {
      if (timeout.signal.aborted) throw new BrokerTimeout(`broker: no answer within ${timeoutMs} ms`);
      if (opts.signal?.aborted) throw err;
      throw new BrokerUnavailable(`broker: unreachable (${(err as Error).message})`, undefined, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Opens a long-lived streaming GET (SSE from the broker). Resolves once the broker answered with headers;
   * the body streams until the broker ends it or `signal` aborts. Non-2xx answers are read whole and thrown
   * as the matching typed error.
   */
  async openStream(
    pathAndQuery: string,
    opts: { signal: AbortSignal; headers?: Record<string, string> },
  ): Promise<{ status: number; body: AsyncIterable<Uint8Array> }> {
    const started = Date.now();
    let retries = 0;
    let reopened = false;
    for (;;) {
      const headers = { ...(await this.headersFor('GET', pathAndQuery, undefined, {})), accept: 'text/event-stream', ...opts.headers };
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(this.config.brokerUrl + pathAndQuery, { method: 'GET', headers, signal: opts.signal, dispatcher: this.egress.dispatcher });
      } catch (err) {
        if (opts.signal.aborted) throw err;
        if (await this.backoff(started, retries++, opts.signal)) continue;
        throw new BrokerUnavailable(`broker: unreachable (${(err as Error).message})`, undefined, { cause: err });
      }
      if (res.statusCode < 300) return { status: res.statusCode, body: res.body };
      const text = await res.body.text();
      if (RETRYABLE_STATUS.has(res.statusCode) && (await this.backoff(started, retries++, opts.signal))) continue;
      if (res.statusCode === 401 && !reopened && this.config.brokerAuth === 'session') {
        reopened = true;
        this.session.drop(); // refused session: reopen once
        continue;
      }
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      this.expect({ status: res.statusCode, body, headers: res.headers });
    }
  }

  /**
   * Opens an `Upgrade: tcp` connection to the broker's socket relay, authenticated like every other request
   * (a session MAC, or a signature with `BROKER_AUTH=signature`); a refused session is reopened once.
   */
  async openUpgrade(method: 'GET' | 'POST', pathAndQuery: string, signal: AbortSignal): Promise<Upgraded> {
    for (let reopened = false; ; reopened = true) {
      const headers = await this.headersFor(method, pathAndQuery, undefined, {});
      let sessionRefused = false;
      const refuse = (res: BrokerResponse): never => {
        if (res.status === 401 && !reopened && this.config.brokerAuth === 'session') {
          sessionRefused = true;
          throw new BrokerUnavailable('broker refused the session');
        }
        this.expect(res);
        throw new BrokerUnavailable(`broker answered ${res.status}`);
      };
      try {
        const target = new URL(this.config.brokerUrl + pathAndQuery);
        return await openBrokerUpgrade(target, (url) => this.egress.connect(url, signal), method, headers, refuse, signal);
      } catch (err) {
        if (!sessionRefused) throw err;
        this.session.drop();
      }
    }
  }

  /** Waits before the next attempt of a failed request; false when the retry budget is spent (or the caller left). */
  private async backoff(started: number, retry: number, signal?: AbortSignal): Promise<boolean> {
    const left = this.config.brokerRetryBudgetMs - (Date.now() - started);
    if (left <= 0 || signal?.aborted) return false;
    // The last attempt goes out when the budget ends, not a doubling step before it.
    await sleep(Math.min(RETRY_FIRST_DELAY_MS * 2 ** retry, RETRY_MAX_DELAY_MS, left), signal);
    return !signal?.aborted;
  }

  private async headersFor(method: string, pathAndQuery: string, body: Buffer | undefined, opts: SendOptions): Promise<Record<string, string>> {
    // The app's request id (or a new one for the proxy's own requests), so both sides log the same id.
    const headers: Record<string, string> = { [REQUEST_ID_HEADER]: currentRequestId() ?? newRequestId(), [VERSION_HEADER]: beamlineVersion() };
    if (body) headers['content-type'] = opts.contentType ?? 'application/json';
    if (opts.anonymous) return headers;
    // The MAC binds it; the broker checks the MAC before it reads the body, then the body against it.
    if (body) headers[BODY_DIGEST_HEADER] = requestBodyDigest(body);
    const serial = this.identity.requireSerial();
    const req = { method, pathAndQuery, body };
    headers.authorization =
      opts.signed || this.config.brokerAuth === 'signature'
        ? await signRequest(req, { privateKey: this.identity.privateKey, kid: serial, proxyId: this.identity.proxyId })
        : await this.session.authorize(req, () => this.openSession());
    return headers;
  }

  private async openSession(): Promise<{ session_id: string; wrapped_key: string; expires_at: number }> {
    const res = this.expect(await this.sendOnce('POST', '/v1/sessions', undefined, { signed: true }), 201);
    return res.body as { session_id: string; wrapped_key: string; expires_at: number };
  }

  /** Returns the response when its status is one of `ok`; otherwise throws the matching typed error. */
  expect(res: BrokerResponse, ...ok: number[]): BrokerResponse {
    if (ok.includes(res.status)) return res;
    throw brokerError(res.status, res.body, res.headers['retry-after']);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** The `wait_time` of a long-poll path in ms, or undefined when it has none (or one this cannot read). */
function waitTimeOf(pathAndQuery: string): number | undefined {
  const q = pathAndQuery.indexOf('?');
  if (q < 0) return undefined;
  const raw = new URLSearchParams(pathAndQuery.slice(q + 1)).get('wait_time');
  if (raw === null) return undefined;
  try {
    return parseDuration(raw, 'wait_time');
  } catch {
    return undefined;
  }
}

function withWaitTime(pathAndQuery: string, ms: number): string {
  const q = pathAndQuery.indexOf('?');
  const params = new URLSearchParams(pathAndQuery.slice(q + 1));
  params.set('wait_time', `${Math.round(ms)}ms`);
  return `${pathAndQuery.slice(0, q)}?${params.toString()}`;
}
