/**
 * Files sent store-and-forward (docs/decisions/0007): the sender's proxy uploads the sealed file as parts
 * (blobs of the blob store), then offers it with a signed message that lists every part. broker-api appends
 * the offer only when every part is stored by the sender's proxy and readable by every recipient's; a
 * recipient drops a file it no longer wants.
 */
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { sha256Base64Url } from '@beamline/crypto';
import {
  decideDropFile,
  decideOfferFile,
  parseBeamId,
  parseSealedFileOffer,
  parseUuid,
  ttlMsOf,
  type FileDropped,
  type FileOffered,
  type OfferFile,
  type StoredBlob,
} from '@beamline/domain';
import { subjects } from '@beamline/nats';
import type { AuthenticatedProxy } from '../auth/proxy-auth.guard';
import { appendDecided, asStored } from '../tasks/decided-append';
import { SignedWrite } from '../tasks/signed-write';

/** A proxy offers a file: appends FileOffered; answers its id, expiry and the stream sequence. */
export class OfferFileCommand extends Command<{ fileId: string; expiresAt: number; seq: number }> {
  constructor(
    readonly sender: AuthenticatedProxy,
    readonly message: unknown,
  ) {
    super();
  }
}

/** A recipient's proxy drops a file for that recipient: appends FileDropped. */
export class DropFileCommand extends Command<{ seq: number }> {
  constructor(
    readonly sender: AuthenticatedProxy,
    readonly fileIdParam: string,
    readonly asApp: string,
  ) {
    super();
  }
}

@CommandHandler(OfferFileCommand)
export class OfferFileHandler extends SignedWrite implements ICommandHandler<OfferFileCommand> {
  async execute({ sender, message }: OfferFileCommand): Promise<{ fileId: string; expiresAt: number; seq: number }> {
    this.quotas.admitWrite(sender.proxyId);
    const limits = { maxTtlMs: this.config.maxTtlMs, maxRecipients: this.config.maxRecipients, maxFileBytes: this.config.maxFileBytes };
    const offer = parseSealedFileOffer(await this.verifier.verify(message, sender), limits);
    const own: StoredBlob[] = offer.parts.map((p) => ({ uploader: sender.proxyId, ...p }));
    return this.droppingBlobsIfRefused(own, async () => {
      this.verifier.assertCanSignFor(sender, offer.from);
      this.assertSealedNow(offer.created);
      this.assertRecipientsHaveCertificates(offer.to);
      const jws = message as string;
      this.storage.assertRoomForEvent(jws);
      const parts: StoredBlob[] = [];
      for (const ref of offer.parts) parts.push((await this.storedBlob(sender, ref, offer.to)) as StoredBlob);
      const bytes = parts.reduce((sum, p) => sum + p.size, jws.length);
      await this.quotas.reserve(sender.proxyId, { newTask: false, bytes });
      const command: OfferFile = { fileId: offer.id, from: offer.from, to: offer.to, message: jws, size: offer.size, parts, ttlMs: ttlMsOf(offer) };
      return this.append(sender, command);
    });
  }

  private async append(sender: AuthenticatedProxy, command: OfferFile): Promise<{ fileId: string; expiresAt: number; seq: number }> {
    let expiresAt = 0;
    const outcome = await appendDecided(this.log, {
      subject: subjects.fileOffered(command.fileId),
      decide: (prior) => {
        const stored = prior && asStored<FileOffered>(prior, 'FileOffered');
        expiresAt = stored?.event.expiresAt ?? 0;
        const decision = decideOfferFile(stored, command, Date.now());
        if (decision.kind === 'append') expiresAt = decision.event.expiresAt;
        return decision;
      },
      msgId: `fo-${sha256Base64Url(command.message)}`,
      contention: `id: file ${command.fileId} is being written concurrently, retry`,
    });
    if (outcome.kind === 'already') return { fileId: command.fileId, expiresAt, seq: outcome.seq };
    const { seq, bytes, duplicate } = outcome.appended;
    if (!duplicate) this.storage.appended(bytes);
    this.quotas.appended(sender.proxyId, seq);
    this.wakeups.notify([...new Set(command.to)].map(subjects.notifyApp), seq);
    return { fileId: command.fileId, expiresAt, seq };
  }
}

@CommandHandler(DropFileCommand)
export class DropFileHandler extends SignedWrite implements ICommandHandler<DropFileCommand> {
  async execute({ sender, fileIdParam, asApp }: DropFileCommand): Promise<{ seq: number }> {
    this.quotas.admitWrite(sender.proxyId);
    const fileId = parseUuid(fileIdParam, 'file id');
    const by = parseBeamId(asApp, 'beam_app');
    this.verifier.assertCanSignFor(sender, by);
    const offered = await this.log.lastOn(subjects.fileOffered(fileId));
    const file = offered ? asStored<FileOffered>(offered, 'FileOffered') : undefined;
    const outcome = await appendDecided(this.log, {
      subject: subjects.fileDropped(fileId, by),
      decide: (prior) => decideDropFile(fileId, file, prior && asStored<FileDropped>(prior, 'FileDropped'), by, Date.now()),
      msgId: `fd-${fileId}-${by}`,
      contention: `file ${fileId}: dropped concurrently, retry`,
    });
    if (outcome.kind === 'already') return { seq: outcome.seq };
    this.wakeups.notify([subjects.notifyApp(by)], outcome.appended.seq);
    return { seq: outcome.appended.seq };
  }
}
