/**
 * The broker's view of the certificate directory (BEAM_PKI), followed from the stream. Every lookup
 * re-validates chain, dates, name and revocation at the time of use.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { CryptoError, parseCertificate, verifyCertificate, type CertInfo } from '@beamline/crypto';
import { Unauthenticated } from '@beamline/domain';
import { decodeJson, ensureStreams, isPkiEvent, NATS_CONNECTION, PKI_STREAM, StreamFollower, subjects, type FollowedMessage } from '@beamline/nats';
import { brokerConfig } from '../config';

export interface DirectoryEntry {
  serial: string;
  proxyId: string;
  pem: string;
  notBefore: string;
  notAfter: string;
  revoked: boolean;
}

@Injectable()
export class CertificateRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('PKI');
  private readonly bySerial = new Map<string, CertInfo>();
  private readonly revoked = new Set<string>();
  private intermediatePem: string | undefined;
  private follower: StreamFollower | undefined;
  private readonly rootCertPem = brokerConfig().rootCertPem;

  constructor(@Inject(NATS_CONNECTION) private readonly nc: NatsConnection) {}

  async onApplicationBootstrap(): Promise<void> {
    await ensureStreams(await jetstreamManager(this.nc));
    this.follower = new StreamFollower(jetstream(this.nc), PKI_STREAM, subjects.allPki, (m) => this.apply(m), (err) =>
      this.logger.warn(`pki stream: ${String(err)}`),
    );
    this.follower.start();
    await this.follower.caughtUp;
    this.logger.log(`directory holds ${this.bySerial.size} certificates`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.follower?.stop();
  }

  get intermediate(): string | undefined {
    return this.intermediatePem;
  }

  /** A currently valid certificate by serial, or Unauthenticated naming why not. */
  validBySerial(serial: string, now = Date.now()): CertInfo {
    const cert = this.bySerial.get(serial);
    if (!cert) throw new Unauthenticated(`certificate ${serial}: unknown to the directory`, 'unknown_certificate');
    if (this.revoked.has(serial)) throw new Unauthenticated(`certificate ${serial}: revoked`, 'revoked_certificate');
    return this.verify(cert, now);
  }

  /** The newest currently valid certificate for a proxy, if any. */
  currentFor(proxyId: string, now = Date.now()): CertInfo | undefined {
    let best: CertInfo | undefined;
    for (const cert of this.bySerial.values()) {
      if (cert.commonName !== proxyId || this.revoked.has(cert.serial)) continue;
      try {
        this.verify(cert, now);
      } catch {
        continue;
      }
      if (!best || cert.notBefore > best.notBefore) best = cert;
    }
    return best;
  }

  entries(): DirectoryEntry[] {
    return [...this.bySerial.values()].map((c) => ({
      serial: c.serial,
      proxyId: c.commonName,
      pem: c.pem,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      revoked: this.revoked.has(c.serial),
    }));
  }

  pemBySerial(serial: string): string | undefined {
    return this.bySerial.get(serial)?.pem;
  }

  private verify(cert: CertInfo, now: number): CertInfo {
    if (!this.intermediatePem) throw new Unauthenticated('no intermediate CA published yet', 'untrusted');
    try {
      return verifyCertificate(cert.pem, { imCertPem: this.intermediatePem, rootCertPem: this.rootCertPem }, { now });
    } catch (err) {
      if (err instanceof CryptoError) throw new Unauthenticated(`certificate ${cert.serial}: ${err.message}`, err.code);
      throw err;
    }
  }

  private apply(msg: FollowedMessage): void {
    const event = decodeJson(msg.data);
    if (!isPkiEvent(event)) {
      this.logger.warn(`ignoring unreadable PKI event #${msg.seq}`);
      return;
    }
    switch (event.type) {
      case 'IntermediatePublished':
        this.intermediatePem = event.pem;
        break;
      case 'CertificatePublished':
        try {
          this.bySerial.set(event.serial, parseCertificate(event.pem));
        } catch (err) {
          this.logger.warn(`ignoring unparsable certificate ${event.serial}: ${String(err)}`);
        }
        break;
      case 'CertificateRevoked':
        this.revoked.add(event.serial);
        break;
    }
  }
}
