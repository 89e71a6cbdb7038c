/** What every write of a signed message needs: the log, the signature check, and the write path's side effects. */
import { Inject, Logger } from '@nestjs/common';
import { DomainError, InvalidInput, proxyIdOf, RecipientsWithoutCertificate, type BlobRef, type StoredBlob } from '@beamline/domain';
import { BlobStore, EventLog } from '@beamline/nats';
import type { AuthenticatedProxy } from '../auth/proxy-auth.guard';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { ProxyQuotas } from '../quotas/proxy-quotas';
import { StorageMonitor } from '../storage/storage-monitor';
import { SignedMessageVerifier } from './signed-message.verifier';
import { Wakeups } from './wakeups';

export abstract class SignedWrite {
  protected readonly logger = new Logger('Writes');

  constructor(
    @Inject(EventLog) protected readonly log: EventLog,
    protected readonly verifier: SignedMessageVerifier,
    protected readonly registry: CertificateRegistry,
    protected readonly wakeups: Wakeups,
    protected readonly storage: StorageMonitor,
    protected readonly quotas: ProxyQuotas,
    protected readonly blobs: BlobStore,
    @Inject(BROKER_CONFIG) protected readonly config: BrokerConfig,
  ) {}

  /**
   * A body kept as a blob must be stored before its message: uploaded by the sender's proxy, of the signed
   * size, and readable by every recipient's proxy. Answers the blob as the event will name it.
   */
  protected async storedBlob(sender: AuthenticatedProxy, ref: BlobRef | undefined, to: readonly string[]): Promise<StoredBlob | undefined> {
    if (!ref) return undefined;
    const blob = await this.blobs.info(sender.proxyId, ref.sha256);
    if (!blob || blob.size !== ref.size) {
      throw new InvalidInput(`encrypted_blob: ${sender.proxyId} has no blob ${ref.sha256} of ${ref.size} bytes; upload it first`, 'blob_missing');
    }
    const proxies = new Set(to.map((r, i) => proxyIdOf(r, this.config.brokerId, `to[${i}]`)));
    const unreadable = [...proxies].filter((p) => p !== sender.proxyId && !blob.readers.includes(p));
    if (unreadable.length > 0) throw new InvalidInput(`encrypted_blob: ${unreadable.join(', ')} may not read blob ${ref.sha256}`, 'blob_missing');
    return { uploader: sender.proxyId, sha256: ref.sha256, size: ref.size };
  }

  /**
   * Runs the rest of a write whose message names `blobs` (the sender's own, whether stored or not); when the
   * write is refused for good, they go too, since nothing else can name them (every sealing draws a fresh
   * key, so another message never has the same blob). The proxy retries failures on the way (502, 504, a
   * refused session) with the same blob, which therefore stays.
   */
  protected async droppingBlobsIfRefused<T>(blobs: readonly StoredBlob[], write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (isFinalRefusal(err)) for (const blob of blobs) await this.dropBlob(blob);
      throw err;
    }
  }

  /** Deletes `blob` unless `kept` (the blob of the message already stored in its place) is the same one. */
  protected async dropBlob(blob: StoredBlob | undefined, kept?: StoredBlob): Promise<void> {
    if (!blob || kept?.sha256 === blob.sha256) return;
    await this.blobs
      .delete(blob.uploader, blob.sha256)
      .catch((err: unknown) => this.logger.warn(`blob ${blob.uploader}/${blob.sha256} left to expire: ${String(err)}`));
  }

  /** Every recipient's proxy must have a valid certificate, or nobody could open the message (424). */
  protected assertRecipientsHaveCertificates(to: readonly string[]): void {
    const proxies = new Set(to.map((recipient, i) => proxyIdOf(recipient, this.config.brokerId, `to[${i}]`)));
    const missing = [...proxies].filter((proxyId) => !this.registry.currentFor(proxyId));
    if (missing.length > 0) throw new RecipientsWithoutCertificate(missing);
  }

  /**
   * A message's signed creation time must be within MAX_CLOCK_SKEW of broker time, as its request's is: a task is
   * not born expired, nor does a future-dated result win over later ones. Receiving proxies check again.
   */
  protected assertSealedNow(created: number): void {
    const offMs = created - Date.now();
    if (Math.abs(offMs) > this.config.maxClockSkewMs) {
      throw new InvalidInput(`created: the message was sealed ${offMs} ms off broker time (MAX_CLOCK_SKEW ${this.config.maxClockSkewMs} ms)`, 'stale_message');
    }
  }
}

/** A refusal the proxy hands to its app rather than retrying: the message it names will never be stored. */
function isFinalRefusal(err: unknown): boolean {
  return err instanceof DomainError && !['broker_unavailable', 'broker_timeout', 'unauthenticated'].includes(err.kind);
}
