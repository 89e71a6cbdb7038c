import { KeyObject, X509Certificate } from 'crypto';
import { CryptoError } from './errors';
import { assertUsableRsaKey } from './rsa-key-policy';

export type { CaBundle } from './ca';
export { createCa, createCsr, createIntermediate, issueCertificate, randomSerialHex } from './ca';

/** Parsing and verifying certificates with Node's native X509Certificate (fast; fine on hot paths). */

export interface CertInfo {
  /** Lowercase hex, no colons (the JWS `kid`). */
  serial: string;
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  /** Normalised PEM of the certificate. */
  pem: string;
}

function load(pem: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (err) {
    throw new CryptoError('malformed', `invalid ${what} certificate: ${(err as Error).message}`);
  }
}

function commonNameOf(cert: X509Certificate): string {
  const cns = cert.subject.split('\n').filter((l) => l.startsWith('CN='));
  if (cns.length !== 1) throw new CryptoError('malformed', 'certificate must have exactly one CN');
  return cns[0].slice(3);
}

function info(cert: X509Certificate): CertInfo {
  const { notBefore, notAfter } = validityOf(cert);
  assertUsableRsaKey(cert.publicKey, `certificate ${cert.serialNumber.toLowerCase()}`);
  return {
    serial: cert.serialNumber.toLowerCase(),
    commonName: commonNameOf(cert),
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    publicKey: cert.publicKey,
    pem: cert.toString(),
  };
}

/**
 * Parses a PEM certificate (no trust decisions).
 * @throws CryptoError('malformed') if it is not a certificate with exactly one CN.
 */
export function parseCertificate(pem: string): CertInfo {
  return info(load(pem, 'the'));
}

interface Validity {
  notBefore: number;
  notAfter: number;
}

function validityOf(cert: X509Certificate): Validity {
  const notBefore = new Date(cert.validFrom).getTime();
  const notAfter = new Date(cert.validTo).getTime();
  if (Number.isNaN(notBefore) || Number.isNaN(notAfter)) throw new CryptoError('malformed', 'certificate validity dates are unreadable');
  return { notBefore, notAfter };
}

function checkDates(v: Validity, now: number, what: string): void {
  if (now < v.notBefore) throw new CryptoError('not_yet_valid', `${what} certificate is not valid before ${new Date(v.notBefore).toISOString()}`);
  if (now > v.notAfter) throw new CryptoError('expired', `${what} certificate expired at ${new Date(v.notAfter).toISOString()}`);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  return parent.ca && child.checkIssued(parent) && child.verify(parent.publicKey);
}

/** A root + intermediate pair whose signatures have been checked (dates are checked on every use). */
interface TrustedChain {
  im: X509Certificate;
  imPublicKey: KeyObject;
  rootValidity: Validity;
  imValidity: Validity;
}

/**
 * Leaves whose signature by a chain has been checked, per chain. A signature never changes, so a leaf seen
 * before costs a map lookup, not a parse and an RSA verification (once the largest item in broker-api's CPU
 * profile: every request re-verified its signer). Dates and the name are still checked at every use.
 */
const signedLeaves = new WeakMap<TrustedChain, Map<string, CertInfo>>();
const SIGNED_LEAVES_MAX = 10_000;

function signedLeaf(trusted: TrustedChain, certPem: string): CertInfo {
  let leaves = signedLeaves.get(trusted);
  if (!leaves) signedLeaves.set(trusted, (leaves = new Map()));
  const known = leaves.get(certPem);
  if (known) return known;
  const cert = load(certPem, 'the');
  if (!(cert.checkIssued(trusted.im) && cert.verify(trusted.imPublicKey))) {
    throw new CryptoError('untrusted', 'certificate is not signed by the intermediate');
  }
  if (cert.ca) throw new CryptoError('bad_certificate', 'end-entity certificate must not be a CA');
  const ci = info(cert);
  if (leaves.size >= SIGNED_LEAVES_MAX) leaves.delete(leaves.keys().next().value as string);
  leaves.set(certPem, ci);
  return ci;
}

/** Small cache of verified chains: in practice there is one, so each call only parses and checks the leaf. */
const chainCache = new Map<string, TrustedChain>();
const CHAIN_CACHE_MAX = 16;

function trustedChain(chain: { imCertPem: string; rootCertPem: string }): TrustedChain {
  const cacheKey = `${chain.rootCertPem}\0${chain.imCertPem}`;
  const hit = chainCache.get(cacheKey);
  if (hit) return hit;
  const root = load(chain.rootCertPem, 'root');
  const im = load(chain.imCertPem, 'intermediate');
  if (!issuedBy(root, root)) throw new CryptoError('untrusted', 'root is not a self-signed CA');
  if (!issuedBy(im, root)) throw new CryptoError('untrusted', 'intermediate is not a CA signed by the root');
  const trusted: TrustedChain = { im, imPublicKey: im.publicKey, rootValidity: validityOf(root), imValidity: validityOf(im) };
  if (chainCache.size >= CHAIN_CACHE_MAX) chainCache.delete(chainCache.keys().next().value as string);
  chainCache.set(cacheKey, trusted);
  return trusted;
}

/**
 * Verifies a proxy certificate against the pinned root and the intermediate: root self-signed CA,
 * intermediate a CA signed by the root, certificate signed by the intermediate and not itself a CA,
 * all three valid at `now` (ms), and CN === expectedCn when given. Revocation is the caller's job.
 * The (root, intermediate) signature checks are cached; the leaf is fully checked on every call.
 * @throws CryptoError 'malformed' | 'untrusted' (does not chain) | 'bad_certificate' (end entity is a CA) |
 *         'not_yet_valid' | 'expired' | 'wrong_name'.
 */
export function verifyCertificate(certPem: string, chain: { imCertPem: string; rootCertPem: string }, opts: { now: number; expectedCn?: string }): CertInfo {
  const trusted = trustedChain(chain);
  const ci = signedLeaf(trusted, certPem);
  checkDates(trusted.rootValidity, opts.now, 'root');
  checkDates(trusted.imValidity, opts.now, 'intermediate');
  checkDates({ notBefore: ci.notBefore.getTime(), notAfter: ci.notAfter.getTime() }, opts.now, 'the');
  if (opts.expectedCn !== undefined && ci.commonName !== opts.expectedCn) {
    throw new CryptoError('wrong_name', `certificate CN ${ci.commonName} ≠ expected ${opts.expectedCn}`);
  }
  return ci;
}
