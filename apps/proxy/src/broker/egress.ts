/**
 * The one place that knows how the proxy reaches the broker: directly, or through the site's HTTP proxy (a
 * CONNECT tunnel, for requests, SSE, the control connection and socket upgrades alike), trusting Node's
 * bundled CAs plus those of `TLS_CA_CERTIFICATES_DIR`. Decided once at start-up for `BROKER_URL` and logged.
 */
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, rootCertificates, type SecureContext } from 'node:tls';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { proxyFor, redactedProxy } from './egress-settings';

/** Options of every undici connection: no connection cap, since each long-poll or SSE stream holds one. */
const AGENT_OPTIONS = { headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 30_000 };

@Injectable()
export class Egress implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Egress');
  /** The HTTP proxy in use for BROKER_URL, and the variable that named it; undefined: direct. */
  readonly proxy: { url: URL; variable: string } | undefined;
  /**
   * Node's CAs plus the extra ones, built once (a `ca` option would parse them all again on every connection);
   * undefined (Node's defaults) without TLS_CA_CERTIFICATES_DIR.
   */
  private readonly secureContext: SecureContext | undefined;
  /** What undici requests (requests, long-polls, SSE, control connection) go out through. */
  readonly dispatcher: Dispatcher;

  constructor(@Inject(PROXY_CONFIG) private readonly config: ProxyConfig) {
    const { egress } = config;
    this.proxy = proxyFor(new URL(config.brokerUrl), egress);
    const extra = egress.extraCas.flatMap((ca) => ca.pems);
    this.secureContext = egress.caDir === undefined ? undefined : createSecureContext({ ca: [...rootCertificates, ...extra] });
    const tls = this.secureContext ? { secureContext: this.secureContext } : {};
    this.dispatcher = this.proxy
      ? new ProxyAgent({ ...AGENT_OPTIONS, uri: this.proxy.url.href, requestTls: tls, proxyTls: tls })
      : new Agent({ ...AGENT_OPTIONS, connect: tls });
  }

  onModuleInit(): void {
    this.logger.log(this.describe());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.dispatcher.close();
  }

  /** One line: the broker, the proxy (without credentials) and the extra CAs. */
  describe(): string {
    const { egress } = this.config;
    const via = this.proxy ? `through HTTP proxy ${redactedProxy(this.proxy.url)} (${this.proxy.variable}, CONNECT)` : 'directly (no HTTP proxy applies)';
    const cas =
      egress.caDir === undefined
        ? "Node's bundled CAs"
        : `Node's bundled CAs and ${egress.extraCas.reduce((n, ca) => n + ca.pems.length, 0)} from TLS_CA_CERTIFICATES_DIR=${egress.caDir}` +
          (egress.extraCas.length ? `: ${egress.extraCas.map((ca) => `${ca.file} (${ca.subjects.join('; ')})`).join(', ')}` : '');
    return `broker ${this.config.brokerUrl} reached ${via}; TLS trusts ${cas}`;
  }

  /**
   * A connection to `target` for a raw HTTP exchange (socket upgrades): TCP, or a CONNECT tunnel through the
   * proxy, with TLS on top for https://. Resolves once it is ready to carry the request.
   */
  async connect(target: URL, signal: AbortSignal): Promise<Socket> {
    const port = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const raw = this.proxy ? await this.tunnel(this.proxy.url, host, port, signal) : await tcp(host, port, signal);
    if (target.protocol !== 'https:') return raw;
    return secure(raw, host, this.secureContext, signal);
  }

  private tunnel(proxy: URL, host: string, port: number, signal: AbortSignal): Promise<Socket> {
    const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    const headers: Record<string, string> = { host: authority };
    if (proxy.username || proxy.password) {
      const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
      headers['proxy-authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
    }
    const viaTls = proxy.protocol === 'https:';
    return new Promise<Socket>((resolve, reject) => {
      const req = (viaTls ? httpsRequest : httpRequest)({
        host: proxy.hostname.replace(/^\[|\]$/g, ''),
        port: Number(proxy.port || (viaTls ? 443 : 80)),
        method: 'CONNECT',
        path: authority,
        headers,
        agent: false,
        signal,
        ...(viaTls && this.secureContext ? { secureContext: this.secureContext } : {}),
      });
      req.on('connect', (res, socket, head) => {
        if (res.statusCode !== 200) {
          socket.destroy();
          reject(new Error(`HTTP proxy ${redactedProxy(proxy)} answered ${res.statusCode} to CONNECT ${authority}`));
          return;
        }
        if (head.length > 0) socket.unshift(head);
        resolve(socket);
      });
      req.on('response', (res) => {
        res.resume();
        reject(new Error(`HTTP proxy ${redactedProxy(proxy)} answered ${res.statusCode} to CONNECT ${authority}`));
      });
      req.on('error', reject);
      req.end();
    });
  }
}

function tcp(host: string, port: number, signal: AbortSignal): Promise<Socket> {
  return ready(netConnect({ host, port }), 'connect', signal);
}

function secure(socket: Socket, host: string, secureContext: SecureContext | undefined, signal: AbortSignal): Promise<Socket> {
  const servername = isIP(host) ? undefined : host;
  return ready(tlsConnect({ socket, host, servername, ALPNProtocols: ['http/1.1'], ...(secureContext ? { secureContext } : {}) }), 'secureConnect', signal);
}

/** Resolves with `socket` once it emitted `event`; its error (or the abort) rejects and destroys it. */
function ready(socket: Socket, event: string, signal: AbortSignal): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const abort = (): void => {
      socket.destroy();
      reject(signal.reason as Error);
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', abort);
      reject(err);
    });
    socket.once(event, () => {
      signal.removeEventListener('abort', abort);
      resolve(socket);
    });
  });
}
