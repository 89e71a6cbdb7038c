/**
 * The broker's view of the certificate directory (BEAM_PKI), followed from the stream and folded by
 * @beamline/pki's `PkiDirectory`: only CA-signed events are honoured — an IntermediatePublished whose JWS
 * verifies with the pinned root (ROOTCERT_FILE) and whose certificate chains to it; CertificatePublished
 * and CertificateRevoked signed by such an intermediate. Unsigned or forged events are ignored with a
 * warning. Every lookup re-validates dates, name and revocation at the time of use; a chain, once verified,
 * is remembered (libs/crypto x509), so a request costs no X.509 parsing.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CryptoError, type CertInfo } from '@beamline/crypto';
import { Unauthenticated } from '@beamline/domain';
import { decodePkiEnvelope, PKI_STREAM, StreamFollowers, subjects, type FollowedMessage, type StreamFollower } from '@beamline/nats';
import { PkiDirectory, type CertificateStatus } from '@beamline/pki';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

export interface DirectoryEntry {
  serial: string;
  proxyId: string;
  pem: string;
  notBefore: string;
  notAfter: string;
  revoked: boolean;
  /** Added: the status at the time of the listing ('valid', 'expired', 'not_yet_valid', 'revoked', 'untrusted'). */
  status: CertificateStatus;
}

/** One CA-signed directory event as stored (stream sequence, subject, compact JWS): what proxies fold themselves. */
export interface SignedPkiEvent {
  seq: number;
  subject: string;
  jws: string;
}

/**
 * Folds BEAM_PKI messages into a {@link PkiDirectory}, warning about every message it does not honour, and
 * keeps the signed events it honoured or holds (in stream order) for proxies to verify on their own.
 */
export class VerifiedDirectory {
  readonly directory: PkiDirectory;
  private readonly signed: SignedPkiEvent[] = [];

  constructor(
    rootCertPem: string,
    private readonly warn: (text: string) => void,
  ) {
    this.directory = new PkiDirectory(rootCertPem);
  }

  apply(msg: FollowedMessage): void {
    const result = this.directory.apply(msg.subject, msg.data);
    if (!result.accepted) this.warn(`ignoring PKI event #${msg.seq} on ${msg.subject}: ${result.reason}`);
    if (!result.accepted && !result.held) return;
    const jws = decodePkiEnvelope(msg.data);
    if (jws !== undefined) this.signed.push({ seq: msg.seq, subject: msg.subject, jws });
  }

  /** The signed events stored after stream sequence `afterSeq` (all of them for 0), oldest first. */
  signedAfter(afterSeq: number): SignedPkiEvent[] {
    let lo = 0;
    let hi = this.signed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.signed[mid].seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return this.signed.slice(lo);
  }
}

@Injectable()
export class CertificateRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PKI');
  private readonly view: VerifiedDirectory;
  private follower: StreamFollower | undefined;

  constructor(
    private readonly followers: StreamFollowers,
    @Inject(BROKER_CONFIG) config: BrokerConfig,
  ) {
    this.view = new VerifiedDirectory(config.rootCertPem, (text) => this.logger.warn(text));
  }

  private get directory(): PkiDirectory {
    return this.view.directory;
  }

  /** BEAM_PKI exists by now: StorageSetup creates it in onModuleInit, before any bootstrap hook. */
  async onApplicationBootstrap(): Promise<void> {
    this.follower = this.followers.follow(
      PKI_STREAM,
      subjects.allPki,
      (m) => this.view.apply(m),
      (err) => this.logger.warn(`pki stream: ${String(err)}`),
    );
    this.follower.start();
    await this.follower.caughtUp;
    this.logger.log(`directory holds ${this.directory.size} certificates`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower?.stop();
  }

  /** The active intermediate with the latest notBefore (Beam's `im-ca`; proxies verify against all of them). */
  get intermediate(): string | undefined {
    return this.directory.intermediate();
  }

  /** The CA-signed events after stream sequence `afterSeq`, for proxies that verify the directory themselves. */
  signedEventsAfter(afterSeq: number): SignedPkiEvent[] {
    return this.view.signedAfter(afterSeq);
  }

  /** Directory events held for an unknown signer, and those dropped because the buffer was full (health). */
  get heldEvents(): { held: number; dropped: number } {
    return this.directory.heldEvents;
  }

  /** A currently valid certificate by serial, or Unauthenticated naming why not. */
  validBySerial(serial: string, now = Date.now()): CertInfo {
    const cert = this.directory.get(serial);
    if (!cert) throw new Unauthenticated(`certificate ${serial}: unknown to the directory`, 'unknown_certificate');
    if (this.directory.isRevoked(serial)) throw new Unauthenticated(`certificate ${serial}: revoked`, 'revoked_certificate');
    return this.verify(cert, now);
  }

  /** The newest currently valid certificate for a proxy, if any. */
  currentFor(proxyId: string, now = Date.now()): CertInfo | undefined {
    let best: CertInfo | undefined;
    for (const cert of this.directory.named(proxyId)) {
      if (this.directory.isRevoked(cert.serial)) continue;
      try {
        this.verify(cert, now);
      } catch {
        continue;
      }
      if (!best || cert.notBefore > best.notBefore) best = cert;
    }
    return best;
  }

  entries(now = Date.now()): DirectoryEntry[] {
    return this.directory.all().map((c) => ({
      serial: c.serial,
      proxyId: c.commonName,
      pem: c.pem,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      revoked: this.directory.isRevoked(c.serial),
      status: this.directory.status(c, now),
    }));
  }

  pemBySerial(serial: string): string | undefined {
    return this.directory.get(serial)?.pem;
  }

  private verify(cert: CertInfo, now: number): CertInfo {
    try {
      return this.directory.verify(cert, now);
    } catch (err) {
      if (err instanceof CryptoError) throw new Unauthenticated(`certificate ${cert.serial}: ${err.message}`, err.code, { cause: err });
      throw err;
    }
  }
}
