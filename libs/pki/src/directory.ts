/**
 * The certificate directory as folded from BEAM_PKI — one reducer for the broker (`CertificateRegistry`)
 * and `beamline pki list`. With a pinned root it honours only CA-signed events:
 *
 * - IntermediatePublished: signed by the root key (kid = root serial), and the certificate is a CA signed
 *   by the root. The newest accepted one is "the" intermediate; earlier ones stay trusted for the
 *   certificates they issued.
 * - CertificatePublished / CertificateRevoked: signed by an accepted intermediate (kid = its serial). An
 *   event signed by an intermediate not (yet) accepted is held and applied when that intermediate is.
 * - Every event must sit on its own subject (`beam.pki.cert.<serial>` …) and certificates must carry the
 *   serial they are published under.
 *
 * Anything else (unsigned, forged, malformed, misplaced) is ignored; `apply` says why. Certificates are
 * still verified against the chain (and dates) at every use: {@link PkiDirectory.verify}.
 */
import { X509Certificate } from 'node:crypto';
import { CryptoError, isCryptoError, parseCertificate, verifyCertificate, type CertInfo } from '@beamline/crypto';
import { decodePkiEnvelope, isStreamNotFound, PKI_STREAM, pkiEventSubject, readStream, subjects } from '@beamline/nats';
import { type PkiEvent } from '@beamline/domain';
import type { JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { pkiJwsSignatureValid, readPkiJws, type UnverifiedPkiJws } from './ca-signature';

export type CertificateStatus = 'valid' | 'expired' | 'not_yet_valid' | 'revoked' | 'untrusted';

export interface DirectoryListing {
  serial: string;
  /** The certificate's CN. */
  proxyId: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  /** 'untrusted' only with a pinned root: the certificate does not chain to it. */
  status: CertificateStatus;
  pem: string;
  revokedAt?: string;
  revocationReason?: string;
}

export type ApplyResult = { accepted: true; event: PkiEvent } | { accepted: false; reason: string; held?: boolean };

interface Intermediate {
  pem: string;
  x509: X509Certificate;
}

export class PkiDirectory {
  private readonly root: X509Certificate | undefined;
  private readonly rootSerial: string | undefined;
  private readonly intermediates = new Map<string, Intermediate>();
  private latestIntermediate: string | undefined;
  private readonly certs = new Map<string, CertInfo>();
  /** Serials by certificate CN (proxy id): a recipient check is a lookup, not a walk of the directory. */
  private readonly serialsByName = new Map<string, Set<string>>();
  private readonly revocations = new Map<string, { revokedAt: number; reason?: string }>();
  private readonly held = new Map<string, { subject: string; jws: UnverifiedPkiJws }[]>();
  /** The intermediates that issued each certificate (by PEM); forgotten whenever an intermediate is added. */
  private readonly issuersOf = new Map<string, Intermediate[]>();

  /**
   * @param rootCertPem the pinned root. Without it, nothing is verified (signatures and chains are not
   *        checked; `beamline pki list` without a root says so).
   */
  constructor(readonly rootCertPem?: string) {
    if (rootCertPem !== undefined) {
      this.root = new X509Certificate(rootCertPem);
      this.rootSerial = this.root.serialNumber.toLowerCase();
    }
  }

  get verifying(): boolean {
    return this.root !== undefined;
  }

  /** The newest accepted intermediate (PEM). */
  get intermediate(): string | undefined {
    return this.latestIntermediate;
  }

  get size(): number {
    return this.certs.size;
  }

  /** Folds one stored BEAM_PKI message in. */
  apply(subject: string, data: Uint8Array): ApplyResult {
    const compact = decodePkiEnvelope(data);
    if (compact === undefined) return { accepted: false, reason: 'not a CA-signed event (no {"jws": …} envelope)' };
    let jws: UnverifiedPkiJws;
    try {
      jws = readPkiJws(compact);
    } catch (err) {
      return { accepted: false, reason: `malformed signed event: ${(err as Error).message}` };
    }
    if (pkiEventSubject(jws.event) !== subject)
      return { accepted: false, reason: `${jws.event.type} found on ${subject}, not on ${pkiEventSubject(jws.event)}` };
    return this.applyVerified(subject, jws);
  }

  private applyVerified(subject: string, jws: UnverifiedPkiJws): ApplyResult {
    const { event, kid } = jws;
    if (event.type === 'IntermediatePublished') {
      let im: X509Certificate;
      try {
        im = new X509Certificate(event.pem);
      } catch {
        return { accepted: false, reason: 'IntermediatePublished: unreadable certificate' };
      }
      if (this.root) {
        if (kid !== this.rootSerial || !pkiJwsSignatureValid(jws, this.root.publicKey)) {
          return { accepted: false, reason: `IntermediatePublished: not signed by the pinned root (kid ${kid})` };
        }
        if (!im.ca || !im.checkIssued(this.root) || !im.verify(this.root.publicKey)) {
          return { accepted: false, reason: 'IntermediatePublished: the certificate is not a CA signed by the pinned root' };
        }
      }
      const serial = im.serialNumber.toLowerCase();
      this.intermediates.set(serial, { pem: im.toString(), x509: im });
      this.issuersOf.clear();
      this.latestIntermediate = im.toString();
      const waiting = this.held.get(serial) ?? [];
      this.held.delete(serial);
      for (const w of waiting) this.applyVerified(w.subject, w.jws);
      return { accepted: true, event };
    }
    if (this.root) {
      const signer = this.intermediates.get(kid);
      if (!signer) {
        const list = this.held.get(kid) ?? [];
        if (list.length < 1000) list.push({ subject, jws });
        this.held.set(kid, list);
        return {
          accepted: false,
          held: true,
          reason: `${event.type} ${event.serial}: signed by an unknown intermediate (kid ${kid}); held until it is published`,
        };
      }
      if (!pkiJwsSignatureValid(jws, signer.x509.publicKey)) {
        return { accepted: false, reason: `${event.type} ${event.serial}: signature does not verify with intermediate ${kid}` };
      }
    }
    if (event.type === 'CertificatePublished') {
      let cert: CertInfo;
      try {
        cert = parseCertificate(event.pem);
      } catch (err) {
        return { accepted: false, reason: `CertificatePublished ${event.serial}: ${(err as Error).message}` };
      }
      if (cert.serial !== event.serial) return { accepted: false, reason: `CertificatePublished ${event.serial}: the certificate's serial is ${cert.serial}` };
      this.certs.set(cert.serial, cert);
      let serials = this.serialsByName.get(cert.commonName);
      if (!serials) this.serialsByName.set(cert.commonName, (serials = new Set()));
      serials.add(cert.serial);
    } else {
      if (!this.revocations.has(event.serial)) this.revocations.set(event.serial, { revokedAt: event.revokedAt, reason: event.reason });
    }
    return { accepted: true, event };
  }

  isRevoked(serial: string): boolean {
    return this.revocations.has(serial);
  }

  get(serial: string): CertInfo | undefined {
    return this.certs.get(serial);
  }

  all(): CertInfo[] {
    return [...this.certs.values()];
  }

  /** Every certificate issued to this CN (a proxy id), whatever its status. */
  named(commonName: string): CertInfo[] {
    const serials = this.serialsByName.get(commonName);
    return serials ? [...serials].map((s) => this.certs.get(s) as CertInfo) : [];
  }

  /**
   * Verifies a directory certificate against the pinned root through the intermediate that issued it
   * (chain, dates of all three). Revocation is checked separately ({@link isRevoked}).
   * @throws CryptoError ('untrusted' when no accepted intermediate issued it).
   */
  verify(cert: CertInfo, now: number, expectedCn?: string): CertInfo {
    if (!this.rootCertPem) throw new CryptoError('untrusted', 'no pinned root');
    const issuers = this.issuersOfCert(cert.pem);
    if (issuers.length === 0)
      throw new CryptoError(
        'untrusted',
        this.intermediates.size === 0 ? 'no intermediate CA published yet' : 'certificate is not issued by a published intermediate',
      );
    let last: unknown;
    for (const im of issuers) {
      try {
        return verifyCertificate(cert.pem, { imCertPem: im.pem, rootCertPem: this.rootCertPem }, { now, expectedCn });
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  private issuersOfCert(pem: string): Intermediate[] {
    let issuers = this.issuersOf.get(pem);
    if (!issuers) {
      const x = new X509Certificate(pem);
      issuers = [...this.intermediates.values()].filter((im) => x.checkIssued(im.x509));
      this.issuersOf.set(pem, issuers);
    }
    return issuers;
  }

  status(cert: CertInfo, now: number): CertificateStatus {
    if (this.revocations.has(cert.serial)) return 'revoked';
    if (this.root) {
      try {
        this.verify(cert, now);
        return 'valid';
      } catch (err) {
        if (isCryptoError(err, 'expired')) return 'expired';
        if (isCryptoError(err, 'not_yet_valid')) return 'not_yet_valid';
        return 'untrusted';
      }
    }
    if (now < cert.notBefore.getTime()) return 'not_yet_valid';
    if (now > cert.notAfter.getTime()) return 'expired';
    return 'valid';
  }

  listing(now: number = Date.now()): DirectoryListing[] {
    return this.all()
      .sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime() || a.serial.localeCompare(b.serial))
      .map((c) => {
        const rev = this.revocations.get(c.serial);
        return {
          serial: c.serial,
          proxyId: c.commonName,
          notBefore: c.notBefore.toISOString(),
          notAfter: c.notAfter.toISOString(),
          status: this.status(c, now),
          pem: c.pem,
          ...(rev ? { revokedAt: new Date(rev.revokedAt).toISOString(), ...(rev.reason ? { revocationReason: rev.reason } : {}) } : {}),
        };
      });
  }
}

/** Reads every BEAM_PKI message into a {@link PkiDirectory}; `ignored` lists what was not honoured and why. */
export async function loadDirectory(
  jsOrNc: JetStreamClient | NatsConnection,
  opts: { rootCertPem?: string } = {},
): Promise<{ directory: PkiDirectory; ignored: { seq: number; subject: string; reason: string }[] }> {
  const directory = new PkiDirectory(opts.rootCertPem);
  const ignored: { seq: number; subject: string; reason: string }[] = [];
  try {
    for await (const m of readStream(jsOrNc, PKI_STREAM, { filterSubject: subjects.allPki, follow: false })) {
      const result = directory.apply(m.subject, m.data);
      if (!result.accepted) ignored.push({ seq: m.seq, subject: m.subject, reason: result.reason });
    }
  } catch (err) {
    if (!isStreamNotFound(err)) throw err; // no stream: an empty directory
  }
  return { directory, ignored };
}

/** The directory as a list of certificates with their status (see {@link PkiDirectory.listing}). */
export async function readDirectory(jsOrNc: JetStreamClient | NatsConnection, opts: { rootCertPem?: string; now?: number } = {}): Promise<DirectoryListing[]> {
  const { directory } = await loadDirectory(jsOrNc, opts);
  return directory.listing(opts.now);
}
