/**
 * The intermediate CAs a verifier trusts: every root-signed intermediate it has seen, minus every one the
 * root retired. Several are trusted at once, so an intermediate can be rotated with overlap: each
 * certificate is checked against the intermediate that issued it (issuer name and authority key id, then
 * the signature), never against "the latest". Neither the order nor the repetition of events changes the
 * outcome: a retirement is final, and re-publishing an intermediate adds nothing new.
 */
import { X509Certificate } from 'node:crypto';

export type IntermediateStatus = 'active' | 'retired' | 'expired' | 'not_yet_valid';

export interface IntermediateListing {
  serial: string;
  commonName: string;
  /** ISO 8601. */
  notBefore: string;
  notAfter: string;
  status: IntermediateStatus;
  pem: string;
  retiredAt?: string;
  retirementReason?: string;
}

export interface TrustedIntermediate {
  serial: string;
  pem: string;
  x509: X509Certificate;
}

export class Intermediates {
  private readonly known = new Map<string, TrustedIntermediate>();
  private readonly retirements = new Map<string, { retiredAt: number; reason?: string }>();
  /** The intermediates that issued each certificate (by PEM), retired or not; forgotten whenever one is added. */
  private readonly issuersOf = new Map<string, TrustedIntermediate[]>();

  get size(): number {
    return this.known.size;
  }

  add(x509: X509Certificate): void {
    const serial = x509.serialNumber.toLowerCase();
    if (this.known.has(serial)) return;
    this.known.set(serial, { serial, pem: x509.toString(), x509 });
    this.issuersOf.clear();
  }

  /** The first retirement of a serial counts; later ones (even with other dates) change nothing. */
  retire(serial: string, retiredAt: number, reason?: string): void {
    if (this.retirements.has(serial)) return;
    this.retirements.set(serial, { retiredAt, ...(reason ? { reason } : {}) });
  }

  isRetired(serial: string): boolean {
    return this.retirements.has(serial);
  }

  /** A known intermediate by serial, retired or not: the key that signed a directory event. */
  bySerial(serial: string): TrustedIntermediate | undefined {
    return this.known.get(serial);
  }

  /**
   * The intermediates that issued `certPem` (usually one) and were not retired at `at`. A retirement counts
   * from its signed `retiredAt`: live checks (at now) refuse everything it issued, while the audit trail, judged
   * at the time each event was stored, keeps what was signed before. Dates are checked with the chain.
   */
  issuersOfCert(certPem: string, at: number): TrustedIntermediate[] {
    let issuers = this.issuersOf.get(certPem);
    if (!issuers) {
      const x = new X509Certificate(certPem);
      issuers = [...this.known.values()].filter((im) => x.checkIssued(im.x509));
      this.issuersOf.set(certPem, issuers);
    }
    return issuers.filter((im) => !this.retiredAt(im.serial, at));
  }

  private retiredAt(serial: string, at: number): boolean {
    const retired = this.retirements.get(serial);
    return retired !== undefined && retired.retiredAt <= at;
  }

  status(im: TrustedIntermediate, now: number): IntermediateStatus {
    if (this.retiredAt(im.serial, now)) return 'retired';
    if (now < Date.parse(im.x509.validFrom)) return 'not_yet_valid';
    if (now > Date.parse(im.x509.validTo)) return 'expired';
    return 'active';
  }

  /** The active intermediate with the latest notBefore (what `/v1/pki/certs/im-ca` serves to Beam tools). */
  newestActive(now: number): TrustedIntermediate | undefined {
    let best: TrustedIntermediate | undefined;
    for (const im of this.known.values()) {
      if (this.status(im, now) !== 'active') continue;
      if (!best || newer(im, best)) best = im;
    }
    return best;
  }

  listing(now: number): IntermediateListing[] {
    return [...this.known.values()]
      .sort((a, b) => Date.parse(a.x509.validFrom) - Date.parse(b.x509.validFrom) || a.serial.localeCompare(b.serial))
      .map((im) => {
        const retired = this.retirements.get(im.serial);
        return {
          serial: im.serial,
          commonName: commonNameOf(im.x509),
          notBefore: new Date(im.x509.validFrom).toISOString(),
          notAfter: new Date(im.x509.validTo).toISOString(),
          status: this.status(im, now),
          pem: im.pem,
          ...(retired ? { retiredAt: new Date(retired.retiredAt).toISOString(), ...(retired.reason ? { retirementReason: retired.reason } : {}) } : {}),
        };
      });
  }
}

function commonNameOf(x: X509Certificate): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(x.subject)?.[1] ?? x.subject;
}

/** Later notBefore, then later notAfter, then the larger serial: the same answer whatever the event order. */
function newer(a: TrustedIntermediate, b: TrustedIntermediate): boolean {
  const byStart = Date.parse(a.x509.validFrom) - Date.parse(b.x509.validFrom);
  if (byStart !== 0) return byStart > 0;
  const byEnd = Date.parse(a.x509.validTo) - Date.parse(b.x509.validTo);
  return byEnd !== 0 ? byEnd > 0 : a.serial > b.serial;
}
