/**
 * Socket requests as events, written by command handlers: SocketRequested (create-once on `beam.ev.socket.<id>.created`, carrying the
 * initiator proxy's signed request verbatim) and SocketConnected (once, when the recipient connects).
 */
import { Inject } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import { sha256Base64Url } from '@beamline/crypto';
import {
  canSignFor,
  decideConnectSocket,
  decideRequestSocket,
  NotFound,
  parseDuration,
  parseLogEvent,
  parseSocketRequest,
  proxyIdOf,
  RecipientsWithoutCertificate,
  isLive,
  type Stored,
  type SocketRequested,
} from '@beamline/domain';
import { AppendConflict, EventLog, subjects, type StoredEvent } from '@beamline/nats';
import type { AuthenticatedProxy } from '../auth/proxy-auth.guard';
import { Wakeups } from '../tasks/wakeups';
import { appendDecided } from '../tasks/decided-append';
import { SignedWrite } from '../tasks/signed-write';

/** An initiator's proxy asks for a socket: appends SocketRequested; answers the socket id, its expiry and the stream sequence. */
export class RequestSocketCommand extends Command<{ socketId: string; expiresAt: number; seq: number }> {
  constructor(
    readonly sender: AuthenticatedProxy,
    readonly message: unknown,
  ) {
    super();
  }
}

/** The recipient's proxy connects: consumes the request for `app` (at most once); answers the request. */
export class ConnectSocketCommand extends Command<SocketRequested> {
  constructor(
    readonly sender: AuthenticatedProxy,
    readonly socketId: string,
    readonly app: string,
  ) {
    super();
  }
}

/** The live socket request `socketId` straight from the log (not connected-checked), or 404. */
export class LiveSocketQuery extends Query<SocketRequested> {
  constructor(readonly socketId: string) {
    super();
  }
}

@CommandHandler(RequestSocketCommand)
export class RequestSocketHandler extends SignedWrite implements ICommandHandler<RequestSocketCommand> {
  async execute({ sender, message }: RequestSocketCommand): Promise<{ socketId: string; expiresAt: number; seq: number }> {
    this.quotas.admitWrite(sender.proxyId);
    const request = parseSocketRequest(await this.verifier.verify(message, sender), { maxTtlMs: this.config.maxTtlMs });
    this.verifier.assertCanSignFor(sender, request.from);
    const recipientProxy = proxyIdOf(request.to[0], this.config.brokerId, 'to[0]');
    if (!this.registry.currentFor(recipientProxy)) throw new RecipientsWithoutCertificate([recipientProxy]);
    const jws = message as string;
    const command = { socketId: request.id, from: request.from, to: request.to, message: jws, ttlMs: parseDuration(request.ttl, 'ttl') };
    this.storage.assertRoomForEvent(jws);
    let expiresAt = 0;
    const outcome = await appendDecided(this.log, {
      subject: subjects.socketCreated(request.id),
      decide: (prior) => {
        const decision = decideRequestSocket(prior && asStoredRequest(prior), command, Date.now());
        expiresAt = decision.event.expiresAt;
        return decision;
      },
      msgId: `sr-${sha256Base64Url(jws)}`,
      assumeEmpty: true,
      contention: `id: socket ${request.id} is being written concurrently, retry`,
    });
    if (outcome.kind === 'already') throw new Error('a socket request is never already done'); // decideRequestSocket only appends or refuses
    const { seq, bytes } = outcome.appended;
    this.storage.appended(bytes);
    this.wakeups.notify([subjects.notifyApp(request.to[0])], seq);
    return { socketId: request.id, expiresAt, seq };
  }
}

@QueryHandler(LiveSocketQuery)
export class LiveSocketHandler implements IQueryHandler<LiveSocketQuery> {
  constructor(@Inject(EventLog) private readonly log: EventLog) {}

  async execute({ socketId }: LiveSocketQuery): Promise<SocketRequested> {
    const request = (await requested(this.log, socketId))?.event;
    if (!request || !isLive(request.expiresAt, Date.now())) throw new NotFound(`socket ${socketId} not found`);
    return request;
  }
}

/** 404 when the request is not addressed to `app` or already connected. */
@CommandHandler(ConnectSocketCommand)
export class ConnectSocketHandler implements ICommandHandler<ConnectSocketCommand> {
  constructor(
    @Inject(EventLog) private readonly log: EventLog,
    private readonly wakeups: Wakeups,
  ) {}

  async execute({ sender, socketId, app }: ConnectSocketCommand): Promise<SocketRequested> {
    const request = (await requested(this.log, socketId))?.event;
    const decision = decideConnectSocket(request, socketId, app, canSignFor(sender.proxyId, app), Date.now());
    try {
      const { seq } = await this.log.append(subjects.socketConnected(socketId), decision.event, { expectedLastSubjectSeq: decision.expectedLastSubjectSeq });
      this.wakeups.notify([subjects.notifyApp(app)], seq);
    } catch (err) {
      if (err instanceof AppendConflict) throw new NotFound(`socket ${socketId}: already connected`, 'socket_connected');
      throw err;
    }
    return decision.request;
  }
}

async function requested(log: EventLog, socketId: string): Promise<Stored<SocketRequested> | undefined> {
  const stored = await log.lastOn(subjects.socketCreated(socketId));
  return stored ? asStoredRequest(stored) : undefined;
}

/** The event on a socket's `.created` subject; anything else there is a broken log, not a client's error. */
function asStoredRequest(stored: StoredEvent): Stored<SocketRequested> {
  const event = parseLogEvent(stored.event);
  if (event.type !== 'SocketRequested') throw new Error(`event #${stored.seq}: expected SocketRequested, found ${event.type}`);
  return { seq: stored.seq, event };
}
