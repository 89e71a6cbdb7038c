/**
 * The proxy's only connection to the outside: outbound HTTP(S) to the broker. Every request is signed
 * (method, path, query, body digest, time, nonce). Broker answers are mapped back to typed errors, and
 * transport failures to 502/504 — never to a crash.
 */
import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Agent, request } from 'undici';
import { signRequest } from '@beamline/crypto';
import {
  BrokerTimeout,
  BrokerUnavailable,
  Conflict,
  Forbidden,
  InvalidInput,
  NotFound,
  PayloadTooLarge,
  RecipientsWithoutCertificate,
} from '@beamline/domain';
import { proxyConfig } from '../config';
import { BrokerSession } from './broker-session';
import { ProxyIdentity } from './proxy-identity';

export interface BrokerResponse {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
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
}

@Injectable()
export class BrokerClient implements OnApplicationShutdown {
  private readonly config = proxyConfig();
  // No connection cap: every waiting long-poll or SSE stream holds one connection to the broker.
  private readonly agent = new Agent({ headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000 });

  constructor(private readonly identity: ProxyIdentity, private readonly session: BrokerSession) {}

  async onApplicationShutdown(): Promise<void> {
    await this.agent.close();
  }

  async send(method: string, pathAndQuery: string, payload?: unknown, opts: SendOptions = {}): Promise<BrokerResponse> {
    const res = await this.sendOnce(method, pathAndQuery, payload, opts);
    if (res.status !== 401 || opts.anonymous || opts.signed || this.config.brokerAuth !== 'session') return res;
    // The broker refused our session (expired, certificate renewed, secret rotated): reopen once and retry.
    this.session.drop();
    return this.sendOnce(method, pathAndQuery, payload, opts);
  }

  private async sendOnce(method: string, pathAndQuery: string, payload: unknown, opts: SendOptions): Promise<BrokerResponse> {
    const body = payload === undefined ? undefined : Buffer.from(JSON.stringify(payload));
    const headers = await this.headersFor(method, pathAndQuery, body, opts);
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? this.config.brokerTimeoutMs);
    const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
    try {
      const res = await request(this.config.brokerUrl + pathAndQuery, { method: method as 'GET', headers, body, signal, dispatcher: this.agent });
      const text = await res.body.text();
      const type = String(res.headers['content-type'] ?? '');
      return { status: res.statusCode, body: type.includes('json') && text ? JSON.parse(text) : text, headers: res.headers };
    } catch (err) {
      if (timeout.aborted) throw new BrokerTimeout(`broker: no answer within ${opts.timeoutMs ?? this.config.brokerTimeoutMs} ms`);
      if (opts.signal?.aborted) throw err;
      throw new BrokerUnavailable(`broker: unreachable (${(err as Error).message})`);
    }
  }

  /**
   * Opens a long-lived streaming GET (SSE from the broker). Resolves once the broker answered with headers;
   * the body streams until the broker ends it or `signal` aborts. Non-2xx answers are read whole and thrown
   * as the matching typed error.
   */
  async openStream(pathAndQuery: string, opts: { signal: AbortSignal; headers?: Record<string, string> }): Promise<{ status: number; body: AsyncIterable<Uint8Array> }> {
    for (let attempt = 0; ; attempt++) {
      const headers = { ...(await this.headersFor('GET', pathAndQuery, undefined, {})), accept: 'text/event-stream', ...opts.headers };
      let res: Awaited<ReturnType<typeof request>>;
      try {
        res = await request(this.config.brokerUrl + pathAndQuery, { method: 'GET', headers, signal: opts.signal, dispatcher: this.agent });
      } catch (err) {
        if (opts.signal.aborted) throw err;
        throw new BrokerUnavailable(`broker: unreachable (${(err as Error).message})`);
      }
      if (res.statusCode < 300) return { status: res.statusCode, body: res.body };
      const text = await res.body.text();
      if (res.statusCode === 401 && attempt === 0 && this.config.brokerAuth === 'session') {
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

  private async headersFor(method: string, pathAndQuery: string, body: Buffer | undefined, opts: SendOptions): Promise<Record<string, string>> {
    const headers: Record<string, string> = {};
    if (body) headers['content-type'] = 'application/json';
    if (opts.anonymous) return headers;
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
    const b = (res.body ?? {}) as { error?: string; message?: string };
    const message = typeof b.message === 'string' ? b.message : `broker answered ${res.status}`;
    const code = typeof b.error === 'string' ? b.error : undefined;
    switch (res.status) {
      case 400:
        throw new InvalidInput(message, code);
      case 403:
        throw new Forbidden(message, code);
      case 404:
        throw new NotFound(message, code);
      case 409:
        throw new Conflict(message, code);
      case 413:
        throw new PayloadTooLarge(message, code);
      case 424:
        throw new RecipientsWithoutCertificate(Array.isArray(res.body) ? (res.body as string[]) : []);
      case 401:
        throw new BrokerUnavailable(`broker refused this proxy: ${message}`, code ?? 'broker_refused');
      default:
        throw new BrokerUnavailable(`broker: ${message}`, code ?? 'broker_error');
    }
  }
}
