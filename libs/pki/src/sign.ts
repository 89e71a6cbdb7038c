/** The CA's side of enrolment: checking a CSR and issuing the proxy certificate. */
import { isCryptoError, issueCertificate, parseCertificate } from '@beamline/crypto';
import * as forge from 'node-forge';
import { assertCaUsable, type LoadedCa } from './ca-dir';
import { validateProxyId } from './enroll';
import { PkiError } from './errors';
import { MIN_RSA_BITS, rsaKeyProblem } from '@beamline/crypto';

const DAY_MS = 86_400_000;

export interface SignCsrOptions {
  /** Required: the proxy id the CA operator expects; must equal the CSR's CN. */
  proxyId: string;
  /** Default 365. */
  validityDays?: number;
  /** For tests; default Date.now(). */
  now?: number;
}

export interface IssuedCertificate {
  certPem: string;
  serial: string;
  proxyId: string;
  notBefore: Date;
  notAfter: Date;
}

/** The CN of a CSR whose self-signature verifies and whose key is RSA ≥ 2048 bits with a sound exponent (rsa-key-policy). @throws PkiError('bad_csr'). */
export function inspectCsr(csrPem: string): { commonName: string; bits: number } {
  let csr: forge.pki.CertificateSigningRequest;
  let valid: boolean;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
    valid = csr.verify();
  } catch (err) {
    throw new PkiError('bad_csr', `not a valid CSR (PKCS#10 PEM): ${(err as Error).message}`);
  }
  if (!valid) throw new PkiError('bad_csr', 'the CSR signature does not verify: it was altered or is corrupt');
  const cns = csr.subject.attributes.filter((a) => a.name === 'commonName');
  if (cns.length !== 1 || typeof cns[0].value !== 'string' || cns[0].value === '')
    throw new PkiError('bad_csr', 'the CSR must have exactly one CN (the proxy id)');
  const key = csr.publicKey as forge.pki.rsa.PublicKey | null;
  const bits = key?.n?.bitLength() ?? 0;
  if (!key?.e || bits < MIN_RSA_BITS) throw new PkiError('bad_csr', `the CSR's key must be RSA with at least ${MIN_RSA_BITS} bits`);
  const problem = rsaKeyProblem(bits, BigInt(key.e.toString()));
  if (problem) throw new PkiError('bad_csr', `the CSR's key protects nothing: ${problem}`);
  return { commonName: cns[0].value, bits };
}

/**
 * Issues a proxy certificate from `csrPem` with the intermediate CA, after checking that the CA is within
 * its validity, the CSR is intact, and its CN is exactly `opts.proxyId`. The certificate may not outlive
 * the intermediate.
 * @throws PkiError 'invalid_input' | 'bad_csr' | 'wrong_name' | 'ca_expired' | 'ca_not_yet_valid'.
 */
export function signCsr(ca: LoadedCa, csrPem: string, opts: SignCsrOptions): IssuedCertificate {
  const now = opts.now ?? Date.now();
  if (opts.proxyId === undefined) throw new PkiError('invalid_input', 'the expected proxy id is required');
  const proxyId = validateProxyId(opts.proxyId);
  const validityDays = opts.validityDays ?? 365;
  if (!Number.isInteger(validityDays) || validityDays < 1) throw new PkiError('invalid_input', `validity days must be a positive integer, got ${validityDays}`);
  assertCaUsable(ca, now);
  const { commonName } = inspectCsr(csrPem);
  if (commonName !== proxyId) {
    throw new PkiError('wrong_name', `the CSR is for "${commonName}", not for the expected proxy id "${proxyId}"; refusing to sign`);
  }
  const notAfter = now + validityDays * DAY_MS;
  if (notAfter > ca.im.notAfter.getTime()) {
    const maxDays = Math.floor((ca.im.notAfter.getTime() - now) / DAY_MS);
    throw new PkiError(
      'invalid_input',
      `a certificate valid for ${validityDays} days would outlive the intermediate CA (valid until ${ca.im.notAfter.toISOString()}); use at most ${maxDays} days`,
    );
  }
  let certPem: string;
  try {
    certPem = issueCertificate(csrPem, { imCertPem: ca.imCertPem, imKeyPem: ca.imKeyPem }, { validityDays, expectedCn: proxyId });
  } catch (err) {
    if (isCryptoError(err, 'wrong_name')) throw new PkiError('wrong_name', err.message);
    if (isCryptoError(err)) throw new PkiError('bad_csr', err.message);
    throw err;
  }
  const info = parseCertificate(certPem);
  return { certPem: info.pem, serial: info.serial, proxyId, notBefore: info.notBefore, notAfter: info.notAfter };
}
