/**
 * File offers at the proxy: sealed and signed on the way out, verified and opened on the way in. An offer is a
 * message JWS like a task's; it carries the file key wrapped for every recipient and lists every part of the
 * sealed file, so a recipient's proxy trusts nothing the broker says about the file.
 */
import { Injectable } from '@nestjs/common';
import { unwrapFileKey, wrapFileKey } from '@beamline/crypto';
import {
  fileChunkCount,
  MESSAGE_FORMAT_VERSION,
  NotFound,
  parseSealedFileOffer,
  proxyIdOf,
  remainingTtlMs,
  ttlMsOf,
  type BlobRef,
  type SealedFileOffer,
} from '@beamline/domain';
import { ProxyIdentity } from '../broker/proxy-identity';
import { eventOfLine, Messages } from '../tasks/messages';

/** What a file's sender states, before the parts exist. */
export interface FileToOffer {
  id: string;
  from: string;
  to: string[];
  ttl: string;
  metadata: unknown;
}

/** A file as apps see it in a listing. */
export interface FileListing {
  id: string;
  from: string;
  to: string[];
  size: number;
  metadata: unknown;
  /** When it expires, by its signed creation time and ttl (ISO 8601). */
  expiresAt: string;
}

/** A verified offer, opened for its reader: what to fetch, and the key to open it with. */
export interface OpenedFile {
  offer: SealedFileOffer;
  uploader: string;
  key: Buffer;
  chunkCount: number;
}

/** Every limit of an offer was checked by the broker at its time; the receiving side checks shape and signature. */
const NO_LIMITS = { maxTtlMs: Number.MAX_SAFE_INTEGER, maxRecipients: Number.MAX_SAFE_INTEGER, maxFileBytes: Number.MAX_SAFE_INTEGER };

@Injectable()
export class FileOffers {
  constructor(
    private readonly messages: Messages,
    private readonly identity: ProxyIdentity,
  ) {}

  /** Throws RecipientsWithoutCertificate (424) unless every recipient's proxy has a valid certificate. */
  async checkRecipients(to: readonly string[]): Promise<void> {
    await this.messages.recipientKeys(to);
  }

  /** The signed offer of a sealed file: its size, its parts in order, and `key` wrapped for each recipient. */
  async seal(file: FileToOffer, size: number, parts: BlobRef[], key: Buffer): Promise<string> {
    const keys = await this.messages.recipientKeys(file.to);
    const offer: SealedFileOffer = {
      v: MESSAGE_FORMAT_VERSION,
      kind: 'file',
      ...file,
      size,
      parts,
      created: Date.now(),
      ...wrapFileKey(key, keys, { fileId: file.id, from: file.from, to: file.to }),
    };
    return this.messages.sign(offer);
  }

  /** A listing line as `reader` sees it; throws when the offer does not verify or does not match its event. */
  async listed(line: unknown): Promise<FileListing> {
    const { offer } = await this.verified(line);
    const expiresAt = offer.created + ttlMsOf(offer);
    return { id: offer.id, from: offer.from, to: offer.to, size: offer.size, metadata: offer.metadata, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Opens the offer of file `id` for `reader`, a recipient: NotFound for anyone else, or once it expired by its signed times. */
  async open(line: unknown, id: string, reader: string, brokerId: string): Promise<OpenedFile> {
    const { offer } = await this.verified(line);
    const index = offer.to.indexOf(reader);
    if (offer.id !== id || index < 0 || remainingTtlMs(offer, Date.now()) <= 0) throw new NotFound(`file ${id} not found`);
    const key = unwrapFileKey(offer, index, this.identity.privateKey, { fileId: offer.id, from: offer.from, to: offer.to });
    return { offer, uploader: proxyIdOf(offer.from, brokerId, 'from'), key, chunkCount: fileChunkCount(offer.size) };
  }

  private async verified(line: unknown): Promise<{ offer: SealedFileOffer }> {
    const event = eventOfLine(line, 'FileOffered');
    const offer = parseSealedFileOffer(await this.messages.verified(event.message), NO_LIMITS);
    if (event.fileId !== offer.id || event.from !== offer.from) throw new Error(`the broker's event does not match file ${offer.id}'s signed offer`);
    return { offer };
  }
}
