/**
 * The direct-socket byte relay. Proxies open `POST /v1/sockets/<id>` (initiator, role `a`) and
 * `GET /v1/sockets/<id>?beam_app=<app>` (recipient, role `b`) with `Upgrade: tcp`; the two connections
 * may land on different broker-api replicas and are paired over core NATS:
 *
 * - each end subscribes to `beam.sock.<id>.<role>.*` and announces itself (`H` + its connection id) on the
 *   peer role's `.hello` subject, repeating until paired; an end that hears a hello first answers it;
 * - once paired each end answers `101 Switching Protocols` (the recipient's carries the signed request in
 *   `Beam-Socket-Request`) and relays bytes to `beam.sock.<id>.<peer role>.<peer connection id>` as a
 *   RelayLink: offsets, cumulative acks, retransmission, credit-based flow control and heartbeats, so a
 *   message NATS drops costs a retransmission, not the stream.
 *
 * The relay only ever sees the proxies' ciphertext frames. Every subscription is released when either side
 * ends; an initiator whose peer never comes gets 410 at the request's expiry.
 */
import { HttpAdapterHost } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { canSignFor, decodePathParam, NotFound, parseBeamId, parseUuid, UpgradeRequired } from '@beamline/domain';
import { currentRequestId, httpErrorFor, rawJsonResponse, rawSwitchingResponse, routeUpgrades } from '@beamline/http';
import { RelayChannels, type RelayChannel, type RelayRole } from '@beamline/nats';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from '../auth/proxy-auth.guard';
import { ConnectSocketCommand, LiveSocketQuery } from './socket-writes';
import { RELAY_ABORT_MESSAGE, RelayLink, type LinkOutcome, type RelayLinkOptions } from './relay-link';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

const HELLO_REPEAT_MS = 500;
const SOCKET_PATH = /^\/v1\/sockets\/([^/?#]+)(?:\?.*)?$/;

const T_HELLO = 0x48; // H

class SocketGone extends Error {}

@Injectable()
export class SocketRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('SocketRelay');
  private readonly ends = new Set<RelayEnd>();
  private retransmittedBytes = 0;
  private relayedBytes = 0;

  constructor(
    private readonly channels: RelayChannels,
    private readonly adapterHost: HttpAdapterHost,
    private readonly guard: ProxyAuthGuard,
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    routeUpgrades(server, {
      route: '/v1/sockets/:id',
      claims: (req) => (req.method === 'GET' || req.method === 'POST') && SOCKET_PATH.test(req.url ?? ''),
      handle: (req, socket, head) => void this.accept(req, socket, head),
    });
  }

  onApplicationShutdown(): void {
    for (const end of [...this.ends]) end.abort();
  }

  stats(): { relays: number; subscriptions: number; waiting: number; retransmitted_bytes: number; bytes: number } {
    let subscriptions = 0;
    let waiting = 0;
    let retransmitted = this.retransmittedBytes;
    let bytes = this.relayedBytes;
    for (const e of this.ends) {
      if (e.subscribed) subscriptions++;
      if (!e.paired) waiting++;
      retransmitted += e.retransmittedBytes;
      bytes += e.relayedBytes;
    }
    return { relays: this.ends.size, subscriptions, waiting, retransmitted_bytes: retransmitted, bytes };
  }

  private async accept(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    let end: RelayEnd | undefined;
    try {
      if (String(req.headers.upgrade).toLowerCase() !== 'tcp') throw new UpgradeRequired('Upgrade: tcp required');
      const proxy = await this.authenticate(req);
      const url = new URL(req.url ?? '/', 'http://broker');
      const socketId = parseUuid(decodePathParam(SOCKET_PATH.exec(req.url ?? '')?.[1] ?? '', 'socket id'), 'socket id');
      let role: RelayRole;
      let expiresAt: number;
      let requestJws: string | undefined;
      if (req.method === 'POST') {
        const event = await this.queries.execute(new LiveSocketQuery(socketId));
        if (!canSignFor(proxy.proxyId, event.from)) throw new NotFound(`socket ${socketId} not found`);
        role = 'a';
        expiresAt = event.expiresAt;
      } else {
        const app = parseBeamId(url.searchParams.get('beam_app') ?? undefined, 'beam_app');
        const event = await this.commands.execute(new ConnectSocketCommand(proxy, socketId, app));
        role = 'b';
        expiresAt = event.expiresAt;
        requestJws = event.message;
      }
      if (socket.destroyed) return;
      end = new RelayEnd(this.channels, socketId, role, socket, head, requestJws, this.config.socketRelay, (e) => this.released(e), this.logger);
      this.ends.add(end);
      await end.pair(expiresAt);
    } catch (err) {
      end?.dispose();
      if (socket.destroyed) return;
      if (err instanceof SocketGone) {
        socket.end(rawJsonResponse(410, 'Gone', { error: 'socket_expired', message: 'socket: the peer did not connect before the request expired' }));
        return;
      }
      const mapped = httpErrorFor(err);
      if (!mapped) this.logger.warn(`socket upgrade failed: ${String(err)}`);
      const status = mapped?.status ?? 500;
      socket.end(rawJsonResponse(status, STATUS_CODES[status] ?? 'Error', mapped?.body ?? { error: 'internal', message: 'internal error' }));
    }
  }

  private released(end: RelayEnd): void {
    this.retransmittedBytes += end.retransmittedBytes;
    this.relayedBytes += end.relayedBytes;
    this.ends.delete(end);
  }

  private async authenticate(req: IncomingMessage): Promise<AuthenticatedProxy> {
    const r = req as unknown as ProxyRequest & { originalUrl: string };
    r.originalUrl = req.url ?? '/';
    const ctx = { switchToHttp: () => ({ getRequest: () => r }) };
    await this.guard.canActivate(ctx as never);
    return r.proxy as AuthenticatedProxy;
  }
}

/** One proxy connection's end of a relayed socket: pairing, then the byte stream (RelayLink). */
class RelayEnd {
  readonly connId = randomBytes(9).toString('base64url').replace(/[-_]/g, 'x');
  private channel: RelayChannel | undefined;
  private peerConn: string | undefined;
  private onPaired: (() => void) | undefined;
  private link: RelayLink | undefined;
  private released = false;
  /** Pairing completes in a NATS callback, outside the upgrade request's async context. */
  private readonly requestId = currentRequestId();
  paired = false;

  constructor(
    private readonly channels: RelayChannels,
    private readonly socketId: string,
    private readonly role: RelayRole,
    private readonly socket: Duplex,
    private readonly head: Buffer,
    private readonly requestJws: string | undefined,
    private readonly linkOptions: RelayLinkOptions,
    private readonly onRelease: (end: RelayEnd) => void,
    private readonly logger: Logger,
  ) {}

  get subscribed(): boolean {
    return this.channel?.subscribed ?? false;
  }

  get retransmittedBytes(): number {
    return this.link?.retransmittedBytes ?? 0;
  }

  /** Bytes of this end's TCP connection sent on to the peer. */
  get relayedBytes(): number {
    return this.link?.bytesSent ?? 0;
  }

  /** Resolves once paired and switched to the byte stream; throws SocketGone at `expiresAt`. */
  async pair(expiresAt: number): Promise<void> {
    const channel = this.channels.open(
      this.socketId,
      this.role,
      (to, data) => this.onMessage(to, data),
      (message) => this.failed(message),
    );
    this.channel = channel;
    const closedEarly = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    const paired = new Promise<void>((resolve) => (this.onPaired = resolve));
    await channel.flush();
    this.hello();
    const repeat = setInterval(() => this.hello(), HELLO_REPEAT_MS);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), Math.max(0, expiresAt - Date.now()))));
    try {
      const outcome = await Promise.race([paired.then(() => 'paired' as const), expired, closedEarly.then(() => 'closed' as const)]);
      if (outcome === 'closed') {
        this.abort();
        return;
      }
      if (outcome === 'expired') throw new SocketGone();
    } finally {
      clearInterval(repeat);
      clearTimeout(timer);
    }
    this.start(channel);
  }

  private hello(): void {
    if (this.released) return;
    this.channel?.hello(Buffer.concat([Buffer.from([T_HELLO]), Buffer.from(this.connId)]));
  }

  private onMessage(to: string, data: Uint8Array): void {
    if (this.released || data.length === 0) return;
    if (to === 'hello') {
      if (data[0] !== T_HELLO || this.peerConn !== undefined) return;
      const peerConn = Buffer.from(data.subarray(1)).toString();
      if (!/^[A-Za-z0-9]{1,32}$/.test(peerConn)) return;
      this.peerConn = peerConn;
      this.paired = true;
      this.hello(); // tell the peer, in case it has not heard us yet
      this.onPaired?.();
      return;
    }
    if (to === this.connId) this.link?.receive(data);
  }

  private start(channel: RelayChannel): void {
    (this.socket as Duplex & { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
    // Each direction ends on its own FIN (RelayLink): the proxy's FIN must not end what we still send to it.
    this.socket.allowHalfOpen = true;
    const extra = this.requestJws ? `Beam-Socket-Request: ${this.requestJws}\r\n` : '';
    this.socket.write(rawSwitchingResponse(extra, this.requestId));
    const peerConn = this.peerConn as string;
    this.link = new RelayLink(
      this.socket,
      (msg) => channel.send(peerConn, msg),
      (outcome) => this.linkDone(outcome),
      this.linkOptions,
    );
    this.link.start(this.head);
  }

  private linkDone(outcome: LinkOutcome): void {
    if (outcome !== 'clean') this.logger.warn(`socket ${this.socketId} (${this.role}) ended: ${outcome}; ${this.link?.describe() ?? 'not relaying'}`);
    this.release();
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.channel?.unsubscribe();
    this.onRelease(this);
  }

  /** Resets this end: tells a paired peer, destroys the connection, releases NATS interest. */
  abort(): void {
    if (this.link) return this.link.abort();
    if (this.peerConn) this.channel?.send(this.peerConn, RELAY_ABORT_MESSAGE);
    this.release();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** A relay message could not be handled: this stream cannot be trusted any more, so it is reset. */
  private failed(reason: string): void {
    this.logger.warn(`resetting: ${reason}`);
    this.abort();
  }

  /** Releases an end that never started relaying, leaving the socket to the caller (for an error answer). */
  dispose(): void {
    if (this.link) return this.link.abort();
    this.release();
  }
}
