/**
 * The certificate directory as folded from BEAM_PKI — one reducer for the broker (`CertificateRegistry`),
 * every proxy (which folds the same signed events, fetched through the broker, itself), the audit tools and
 * `beamline pki list`. With a pinned root it honours only CA-signed events:
 *
 * - IntermediatePublished / IntermediateRetired: signed by the root key (kid = root serial); a published
 *   certificate must be a CA signed by the root. Every unretired intermediate stays trusted for the
 *   certificates it issued ({@link Intermediates}); which event came last decides nothing.
 * - CertificatePublished / CertificateRevoked: signed by a known intermediate (kid = its serial). An event
 *   signed by an intermediate not (yet) known is held, in a bounded buffer, and applied when it is.
 * - Every event must sit on its own subject (`beam.pki.cert.<serial>` …) and certificates must carry the
 *   serial they are published under. A revocation is final.
 *
 * Anything else (unsigned, forged, malformed, misplaced) is ignored; `apply` says why. Certificates are
 * still verified against the chain (and dates) at every use: {@link PkiDirectory.verify}.
 */
import { X509Certificate } from 'node:crypto';
import { CryptoError, isCryptoError, parseCertificate, verifyCertificate, type CertInfo } from '@beamline/crypto';
import { decodePkiEnvelope, pkiEventSubject } from '@beamline/nats';
import { isRootSignedPkiEvent, type IntermediatePublished, type IntermediateRetired, type PkiEvent } from '@beamline/domain';
import { pkiJwsSignatureValid, readPkiJws, type UnverifiedPkiJws } from './ca-signature';
import { Intermediates, type IntermediateListing } from './intermediates';

/**
 * Events signed by intermediates not yet seen are held, at most this many in all: whoever can write to
 * BEAM_PKI (or answer for the broker) could otherwise grow every verifier's memory without bound.
 */
export const MAX_HELD_PKI_EVENTS = 10_000;

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

export class PkiDirectory {
  private readonly root: X509Certificate | undefined;
  private readonly rootSerial: string | undefined;
  private readonly intermediates = new Intermediates();
  private readonly certs = new Map<string, CertInfo>();
  /** Serials by certificate CN (proxy id): a recipient check is a lookup, not a walk of the directory. */
  private readonly serialsByName = new Map<string, Set<string>>();
  private readonly revocations = new Map<string, { revokedAt: number; reason?: string }>();
  /** Held events by signer kid, each keyed by its signature so that reading an event twice holds it once. */
  private readonly held = new Map<string, Map<string, { subject: string; jws: UnverifiedPkiJws }>>();
  private heldCount = 0;
  private droppedCount = 0;

  /**
   * @param rootCertPem the pinned root. Without it, nothing is verified (signatures and chains are not
   *        checked; `beamline pki list` without a root says so).
   * @param opts.maxHeld events held for unknown signers at most (default {@link MAX_HELD_PKI_EVENTS}).
   */
  constructor(
    readonly rootCertPem?: string,
    private readonly opts: { maxHeld?: number } = {},
  ) {
    if (rootCertPem !== undefined) {
      this.root = new X509Certificate(rootCertPem);
      this.rootSerial = this.root.serialNumber.toLowerCase();
    }
  }

  get verifying(): boolean {
    return this.root !== undefined;
  }

  /** The active intermediate with the latest notBefore (PEM); not a trust decision, see {@link verify}. */
  intermediate(now: number = Date.now()): string | undefined {
    return this.intermediates.newestActive(now)?.pem;
  }

  intermediateListing(now: number = Date.now()): IntermediateListing[] {
    return this.intermediates.listing(now);
  }

  /** Events waiting for the intermediate that signed them, and those turned away because the buffer was full. */
  get heldEvents(): { held: number; dropped: number } {
    return { held: this.heldCount, dropped: this.droppedCount };
  }

  get size(): number {
    return this.certs.size;
  }

  /** Folds one stored BEAM_PKI message in. */
  apply(subject: string, data: Uint8Array): ApplyResult {
    const compact = decodePkiEnvelope(data);
    if (compact === undefined) return { accepted: false, reason: 'not a CA-signed event (no {"jws": …} envelope)' };
    return this.applySigned(subject, compact);
  }

  /** Folds one CA-signed event (its compact JWS, as found on `subject`) in. Applying it again changes nothing. */
  applySigned(subject: string, compact: string): ApplyResult {
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
    if (isRootSignedPkiEvent(event)) return this.applyRootSigned(jws, event);
    if (this.root) {
      const signer = this.intermediates.bySerial(kid);
      if (!signer) return this.hold(kid, subject, jws);
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
    } else if (!this.revocations.has(event.serial)) {
      this.revocations.set(event.serial, { revokedAt: event.revokedAt, reason: event.reason });
    }
    return { accepted: true, event };
  }

  private applyRootSigned(jws: UnverifiedPkiJws, event: IntermediatePublished | IntermediateRetired): ApplyResult {
    if (this.root && (jws.kid !== this.rootSerial || !pkiJwsSignatureValid(jws, this.root.publicKey))) {
      return { accepted: false, reason: `${event.type}: not signed by the pinned root (kid ${jws.kid})` };
    }
    if (event.type === 'IntermediateRetired') {
      this.intermediates.retire(event.serial, event.retiredAt, event.reason);
      return { accepted: true, event };
    }
    let im: X509Certificate;
    try {
      im = new X509Certificate(event.pem);
    } catch {
      return { accepted: false, reason: 'IntermediatePublished: unreadable certificate' };
    }
    if (this.root && (!im.ca || !im.checkIssued(this.root) || !im.verify(this.root.publicKey))) {
      return { accepted: false, reason: 'IntermediatePublished: the certificate is not a CA signed by the pinned root' };
    }
    const serial = im.serialNumber.toLowerCase();
    if (event.serial !== undefined && event.serial !== serial) {
      return { accepted: false, reason: `IntermediatePublished ${event.serial}: the certificate's serial is ${serial}` };
    }
    this.intermediates.add(im);
    const waiting = [...(this.held.get(serial)?.values() ?? [])];
    this.held.delete(serial);
    this.heldCount -= waiting.length;
    for (const w of waiting) this.applyVerified(w.subject, w.jws);
    return { accepted: true, event };
  }

  private hold(kid: string, subject: string, jws: UnverifiedPkiJws): ApplyResult {
    const what = `${jws.event.type} ${'serial' in jws.event ? jws.event.serial : ''}`;
    const key = `${subject} ${jws.signature.toString('base64url')}`;
    const list = this.held.get(kid) ?? new Map<string, { subject: string; jws: UnverifiedPkiJws }>();
    const maxHeld = this.opts.maxHeld ?? MAX_HELD_PKI_EVENTS;
    if (!list.has(key) && this.heldCount >= maxHeld) {
      this.droppedCount++;
      return { accepted: false, reason: `${what}: signed by an unknown intermediate (kid ${kid}), and ${maxHeld} such events are already held` };
    }
    if (!list.has(key)) this.heldCount++;
    list.set(key, { subject, jws });
    this.held.set(kid, list);
    return { accepted: false, held: true, reason: `${what}: signed by an unknown intermediate (kid ${kid}); held until it is published` };
  }

  /** How many certificates this directory knows to be revoked (revocations are final). */
  get revocationCount(): number {
    return this.revocations.size;
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
    const issuers = this.intermediates.issuersOfCert(cert.pem, now);
    if (issuers.length === 0)
      throw new CryptoError(
        'untrusted',
        this.intermediates.size === 0 ? 'no intermediate CA published yet' : 'certificate is not issued by a published, unretired intermediate',
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
