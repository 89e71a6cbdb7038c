/**
 * Socket requests as events: SocketRequested (create-once on `beam.ev.socket.<id>.created`, carrying the
 * initiator proxy's signed request verbatim) and SocketConnected (once, when the recipient connects).
 */
import { Inject, Injectable } from '@nestjs/common';
import { sha256Base64Url } from '@beamline/crypto';
import {
  canSignFor,
  Conflict,
  NotFound,
  parseDuration,
  parseLogEvent,
  parseSocketRequest,
  proxyIdOf,
  RecipientsWithoutCertificate,
  type SocketConnected,
  type SocketRequested,
} from '@beamline/domain';
import { AppendConflict, EventLog, subjects } from '@beamline/nats';
import type { AuthenticatedProxy } from '../auth/proxy-auth.guard';
import { brokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { StorageMonitor } from '../storage/storage-monitor';
import { SignedMessageVerifier } from '../tasks/signed-message.verifier';
import { ProxyQuotas } from '../quotas/proxy-quotas';
import { Wakeups } from '../tasks/wakeups';

@Injectable()
export class SocketCommands {
  private readonly config = brokerConfig();

  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    private readonly verifier: SignedMessageVerifier,
    private readonly registry: CertificateRegistry,
    private readonly wakeups: Wakeups,
    private readonly storage: StorageMonitor,
    private readonly quotas: ProxyQuotas,
  ) {}

  /** Appends SocketRequested; returns the socket id, its expiry and the stream sequence. */
  async request(sender: AuthenticatedProxy, message: unknown): Promise<{ socketId: string; expiresAt: number; seq: number }> {
    this.quotas.admitWrite(sender.proxyId);
    const request = parseSocketRequest(await this.verifier.verify(message, sender), { maxTtlMs: this.config.maxTtlMs });
    this.verifier.assertCanSignFor(sender, request.from);
    const recipientProxy = proxyIdOf(request.to[0], this.config.brokerId, 'to[0]');
    if (!this.registry.currentFor(recipientProxy)) throw new RecipientsWithoutCertificate([recipientProxy]);
    const now = Date.now();
    const ttlMs = parseDuration(request.ttl, 'ttl');
    const event: SocketRequested = {
      type: 'SocketRequested',
      v: 1,
      socketId: request.id,
      from: request.from,
      to: request.to,
      message: message as string,
      receivedAt: now,
      expiresAt: now + ttlMs,
    };
    const subject = subjects.socketCreated(request.id);
    this.storage.assertRoomForEvent(message as string);
    try {
      const { seq, bytes } = await this.log.append(subject, event, { expectedLastSubjectSeq: 0, msgId: `sr-${sha256Base64Url(message as string)}` });
      this.storage.appended(bytes);
      this.wakeups.notify([subjects.notifyApp(request.to[0])], seq);
      return { socketId: request.id, expiresAt: event.expiresAt, seq };
    } catch (err) {
      if (err instanceof AppendConflict) throw new Conflict(`id: socket ${request.id} already exists`, 'socket_exists');
      throw err;
    }
  }

  /** The live socket request `socketId` straight from the log (not connected-checked), or 404. */
  async live(socketId: string): Promise<SocketRequested> {
    const stored = await this.log.lastOn(subjects.socketCreated(socketId));
    const event = stored ? (parseLogEvent(stored.event) as SocketRequested) : undefined;
    if (!event || event.type !== 'SocketRequested' || event.expiresAt <= Date.now()) throw new NotFound(`socket ${socketId} not found`);
    return event;
  }

  /** Consumes the request for the recipient `app` (at most once); 404 when it is not addressed to `app` or already connected. */
  async connect(sender: AuthenticatedProxy, socketId: string, app: string): Promise<SocketRequested> {
    const event = await this.live(socketId);
    if (!canSignFor(sender.proxyId, app) || !event.to.includes(app)) throw new NotFound(`socket ${socketId} not found`);
    const connected: SocketConnected = { type: 'SocketConnected', v: 1, socketId, by: app, connectedAt: Date.now() };
    try {
      const { seq } = await this.log.append(subjects.socketConnected(socketId), connected, { expectedLastSubjectSeq: 0 });
      this.wakeups.notify([subjects.notifyApp(app)], seq);
    } catch (err) {
      if (err instanceof AppendConflict) throw new NotFound(`socket ${socketId}: already connected`, 'socket_connected');
      throw err;
    }
    return event;
  }
}
