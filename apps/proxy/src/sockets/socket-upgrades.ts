/**
 * The upgraded socket routes of the app API, on the HTTP server's upgrade path (Nest does not route
 * `Upgrade` requests):
 *
 * - `POST /v1/sockets/<app_id>` (`Upgrade: tcp`, optional `metadata` header): signs a socket request with a
 *   fresh X25519 key, registers it at the broker, opens the relay and waits for the recipient; on the
 *   recipient proxy's signed handshake answers `101` and the connection carries the app's bytes.
 * - `GET /v1/sockets/<id>` (`Upgrade: tcp`): opens the relay as recipient, verifies the signed request the
 *   broker hands over, answers `101`, sends its own signed ephemeral key and relays.
 *
 * Between the proxies every byte is in socket frames (libs/crypto socket-frames) under keys only the two
 * proxies derive (socket-handshake); the broker relays ciphertext. A clean FIN in either direction is a
 * final frame; an error, reset or truncation on one side resets the other.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import {
  CryptoError,
  deriveSocketKeys,
  generateSocketEphemeral,
  readJwsKid,
  signSocketHandshake,
  splitSocketHandshake,
  verifySocketHandshake,
  type SocketKeys,
} from '@beamline/crypto';
import { BrokerUnavailable, decodePathParam, NotFound, parseBeamId, parseSocketMetadataHeader, parseUuid, proxyIdOf, UpgradeRequired } from '@beamline/domain';
import { httpErrorFor, rawJsonResponse, rawSwitchingResponse, routeUpgrades } from '@beamline/http';
import { ApiKeyGuard, callerOf, type AppRequest } from '../auth/api-key.guard';
import { BrokerClient } from '../broker/broker-client';
import { ProxyIdentity } from '../broker/proxy-identity';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { CertificateDirectory } from '../pki/certificate-directory';
import { SocketExpired, type Upgraded } from '../broker/broker-upgrade';
import { allowHalfOpen, EncryptedRelay } from './encrypted-relay';
import { SocketMessages } from './socket-messages';

const SOCKET_PATH = /^\/v1\/sockets\/([^/?#]+)(?:\?.*)?$/;

@Injectable()
export class SocketUpgrades implements OnApplicationBootstrap {
  private readonly logger = new Logger('Sockets');
  private live = 0;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly guard: ApiKeyGuard,
    private readonly messages: SocketMessages,
    private readonly broker: BrokerClient,
    private readonly identity: ProxyIdentity,
    private readonly directory: CertificateDirectory,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {}

  onApplicationBootstrap(): void {
    routeUpgrades(this.adapterHost.httpAdapter.getHttpServer() as Server, {
      route: '/v1/sockets/:id',
      claims: (req) => (req.method === 'GET' || req.method === 'POST') && SOCKET_PATH.test(req.url ?? ''),
      handle: (req, socket, head) => void this.accept(req, socket as Socket, head),
    });
  }

  /** Sockets currently open or being opened through this proxy. */
  get active(): number {
    return this.live;
  }

  private async accept(req: IncomingMessage, app: Socket, head: Buffer): Promise<void> {
    app.on('error', () => app.destroy());
    allowHalfOpen(app);
    const aborted = new AbortController();
    app.once('close', () => aborted.abort());
    this.live++;
    app.once('close', () => this.live--);
    let relay: Socket | undefined;
    try {
      const caller = this.authenticate(req);
      if (String(req.headers.upgrade).toLowerCase() !== 'tcp') throw new UpgradeRequired('Upgrade: tcp required');
      const param = decodePathParam(SOCKET_PATH.exec(req.url ?? '')?.[1] ?? '', 'socket path');
      const opened = req.method === 'POST' ? await this.initiate(caller, param, req, aborted.signal) : await this.connect(caller, param, aborted.signal);
      relay = opened.relay;
      if (app.destroyed) throw new Error('app went away');
      app.write(rawSwitchingResponse());
      if (opened.handshake) relay.write(opened.handshake);
      new EncryptedRelay(app, relay, opened.send, opened.receive, this.logger).start(head, opened.rest);
    } catch (err) {
      relay?.destroy();
      if (app.destroyed) return;
      if (err instanceof SocketExpired) {
        app.end(rawJsonResponse(410, 'Gone', { error: 'socket_expired', message: err.message }));
        return;
      }
      const mapped = httpErrorFor(err);
      if (!mapped) this.logger.warn(`socket: ${(err as Error).message}`);
      const status = mapped?.status ?? 502;
      const body = mapped?.body ?? { error: 'socket_failed', message: `socket: ${(err as Error).message}` };
      app.end(rawJsonResponse(status, STATUS_CODES[status] ?? 'Error', body));
    }
  }

  private authenticate(req: IncomingMessage): string {
    const ctx = { switchToHttp: () => ({ getRequest: () => req }) };
    this.guard.canActivate(ctx as never);
    return callerOf(req as AppRequest);
  }

  /** Initiator: request, relay, wait for the recipient's signed key. */
  private async initiate(caller: string, param: string, req: IncomingMessage, signal: AbortSignal): Promise<Opened> {
    const to = parseBeamId(param, 'app id');
    const metadata = parseSocketMetadataHeader(req.headers.metadata);
    const id = randomUUID();
    const eph = generateSocketEphemeral();
    await this.messages.request({ id, from: caller, to: [to], metadata, eph: eph.publicKey });
    const up = await this.broker.openUpgrade('POST', `/v1/sockets/${id}`, signal);
    allowHalfOpen(up.socket);
    try {
      const { jws, rest } = await readHandshake(up);
      const kid = readJwsKid(jws);
      const cert = await this.directory.bySerialNumber(kid);
      const expected = proxyIdOf(to, this.config.brokerId, 'app id');
      if (!cert || cert.commonName !== expected) throw new CryptoError('bad_signature', `socket handshake not signed by ${expected}`);
      const peerEph = await verifySocketHandshake(jws, cert.publicKey, id);
      const keys = deriveSocketKeys(eph.privateKey, peerEph, id);
      return { relay: up.socket, rest, send: keys.a2b, receive: keys.b2a };
    } catch (err) {
      up.socket.destroy();
      throw err instanceof CryptoError
        ? new BrokerUnavailable(`socket: the recipient's handshake failed verification (${err.message})`, 'verification_failed')
        : err;
    }
  }

  /** Recipient: relay, verify the initiator's signed request, answer with our signed key. */
  private async connect(caller: string, param: string, signal: AbortSignal): Promise<Opened> {
    const id = parseUuid(param, 'socket id');
    const up = await this.broker.openUpgrade('GET', `/v1/sockets/${id}?beam_app=${encodeURIComponent(caller)}`, signal);
    allowHalfOpen(up.socket);
    try {
      const jws = up.headers['beam-socket-request'];
      if (typeof jws !== 'string') throw new Error('the broker sent no socket request');
      const { request } = await this.messages.verified(jws);
      if (request.id !== id || request.to[0] !== caller) throw new Error(`the broker sent socket request ${request.id} to ${request.to[0]}`);
      const eph = generateSocketEphemeral();
      const keys: SocketKeys = deriveSocketKeys(eph.privateKey, request.eph, id);
      const handshake = await signSocketHandshake({ socketId: id, eph: eph.publicKey, role: 'b' }, this.identity.privateKey, this.identity.requireSerial());
      return { relay: up.socket, rest: up.head, send: keys.b2a, receive: keys.a2b, handshake };
    } catch (err) {
      up.socket.destroy();
      this.logger.warn(`refusing socket ${id}: ${(err as Error).message}`);
      throw err instanceof NotFound ? err : new BrokerUnavailable(`socket ${id}: the request failed verification`, 'verification_failed');
    }
  }
}

interface Opened {
  relay: Socket;
  /** Relay bytes already received after the handshake / the 101. */
  rest: Buffer;
  send: Buffer;
  receive: Buffer;
  /** The recipient's signed handshake record, written to the relay after the app got its 101. */
  handshake?: Buffer;
}

/** Reads the recipient's handshake record off the start of the relay. */
function readHandshake(up: Upgraded): Promise<{ jws: string; rest: Buffer }> {
  const { socket } = up;
  return new Promise((resolve, reject) => {
    let buffered = up.head;
    const cleanup = (): void => {
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const onClose = (): void => {
      cleanup();
      reject(new BrokerUnavailable('socket: the relay closed before the recipient answered'));
    };
    const onData = (chunk?: Buffer): void => {
      if (chunk) buffered = Buffer.concat([buffered, chunk]);
      try {
        const got = splitSocketHandshake(buffered);
        if (!got) return;
        cleanup();
        resolve(got);
      } catch (err) {
        cleanup();
        reject(err);
      }
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    onData();
  });
}
