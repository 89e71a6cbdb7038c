import { KeyObject, createPublicKey, randomBytes } from 'crypto';
import * as forge from 'node-forge';
import { CryptoError } from './errors';
import { generateRsaKeyPair, privateKeyToPem, publicKeyToPem } from './keys';
import { rsaKeyProblem } from './rsa-key-policy';

/**
 * Building certificates with node-forge: root CA, intermediate CA, CSRs and proxy certificates.
 * Keys are generated natively and handed to forge as PEM. Not a hot path (forge's RSA is pure JS).
 * All certificates are SHA-256 with RSA; serials are 16 random bytes with the first byte in 0x10..0x7f
 * (positive, minimal DER, always 32 lowercase hex digits).
 */

const DAY_MS = 86_400_000;
/** Default backdating of notBefore, to tolerate clock skew between the CA and verifiers. */
const BACKDATE_MS = 5 * 60_000;

export interface CaBundle {
  rootCertPem: string;
  rootKeyPem: string;
  imCertPem: string;
  imKeyPem: string;
}

/** A fresh random certificate serial: 16 bytes, leading byte 0x10..0x7f, lowercase hex. */
export function randomSerialHex(): string {
  const b = randomBytes(16);
  b[0] = 0x10 + (b[0] % 0x70);
  return b.toString('hex');
}

function toForgePublic(key: KeyObject): forge.pki.rsa.PublicKey {
  return forge.pki.publicKeyFromPem(publicKeyToPem(key)) as forge.pki.rsa.PublicKey;
}

function toForgePrivate(pem: string): forge.pki.rsa.PrivateKey {
  try {
    return forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  } catch (err) {
    throw new CryptoError('malformed', `invalid issuer private key: ${(err as Error).message}`, { cause: err });
  }
}

function parseForgeCert(pem: string, what: string): forge.pki.Certificate {
  try {
    return forge.pki.certificateFromPem(pem);
  } catch (err) {
    throw new CryptoError('malformed', `invalid ${what} certificate: ${(err as Error).message}`, { cause: err });
  }
}

function subjectKeyId(cert: forge.pki.Certificate): string {
  const ext = cert.getExtension('subjectKeyIdentifier') as { subjectKeyIdentifier?: string } | undefined;
  const hex = ext?.subjectKeyIdentifier ?? cert.generateSubjectKeyIdentifier().toHex();
  return forge.util.hexToBytes(hex);
}

interface BuildOpts {
  subjectCn: string;
  publicKey: forge.pki.PublicKey;
  issuer?: forge.pki.Certificate; // undefined = self-signed
  signingKey: forge.pki.rsa.PrivateKey;
  notBefore: Date;
  notAfter: Date;
  extensions: object[];
}

function buildCert(o: BuildOpts): string {
  const cert = forge.pki.createCertificate();
  cert.serialNumber = randomSerialHex();
  cert.publicKey = o.publicKey;
  cert.validity.notBefore = o.notBefore;
  cert.validity.notAfter = o.notAfter;
  const subject = [{ name: 'commonName', value: o.subjectCn }];
  cert.setSubject(subject);
  cert.setIssuer(o.issuer ? o.issuer.subject.attributes : subject);
  const exts: object[] = [...o.extensions, { name: 'subjectKeyIdentifier' }];
  if (o.issuer) exts.push({ name: 'authorityKeyIdentifier', keyIdentifier: subjectKeyId(o.issuer) });
  cert.setExtensions(exts);
  cert.sign(o.signingKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

const CA_EXTENSIONS = (pathLen?: number) => [
  { name: 'basicConstraints', cA: true, critical: true, ...(pathLen === undefined ? {} : { pathLenConstraint: pathLen }) },
  { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
];

/**
 * Creates a root CA (self-signed) and an intermediate CA (signed by the root, pathLen 0), each with a
 * fresh natively generated RSA key. Validity starts 5 minutes ago.
 */
export function createCa(opts: { rootCn?: string; imCn?: string; validityDays?: number; bits?: number } = {}): CaBundle {
  const { rootCn = 'Beamline Root CA', imCn = 'Beamline Intermediate CA', validityDays = 3650, bits = 2048 } = opts;
  const now = Date.now();
  const notBefore = new Date(now - BACKDATE_MS);
  const notAfter = new Date(now + validityDays * DAY_MS);
  const root = generateRsaKeyPair(bits);
  const im = generateRsaKeyPair(bits);
  const rootKeyPem = privateKeyToPem(root.privateKey);
  const imKeyPem = privateKeyToPem(im.privateKey);
  const rootForgeKey = toForgePrivate(rootKeyPem);
  const rootCertPem = buildCert({
    subjectCn: rootCn,
    publicKey: toForgePublic(root.publicKey),
    signingKey: rootForgeKey,
    notBefore,
    notAfter,
    extensions: CA_EXTENSIONS(),
  });
  const { imCertPem } = createIntermediate({ rootCertPem, rootKeyPem, imCn, validityDays, bits, keyPair: im, now });
  return { rootCertPem, rootKeyPem, imCertPem, imKeyPem };
}

/**
 * A new intermediate CA (pathLen 0) signed by an existing root, with a fresh native RSA key: what an
 * intermediate rotation publishes. Valid from 5 minutes ago, never beyond the root's own notAfter.
 */
export function createIntermediate(opts: {
  rootCertPem: string;
  rootKeyPem: string;
  imCn: string;
  validityDays: number;
  bits: number;
  /** Tests and {@link createCa} only: a key pair generated earlier. */
  keyPair?: { publicKey: KeyObject; privateKey: KeyObject };
  /** Default Date.now(). */
  now?: number;
}): { imCertPem: string; imKeyPem: string } {
  const root = parseForgeCert(opts.rootCertPem, 'root certificate');
  const now = opts.now ?? Date.now();
  const notAfter = new Date(Math.min(now + opts.validityDays * DAY_MS, root.validity.notAfter.getTime()));
  const im = opts.keyPair ?? generateRsaKeyPair(opts.bits);
  const imCertPem = buildCert({
    subjectCn: opts.imCn,
    publicKey: toForgePublic(im.publicKey),
    issuer: root,
    signingKey: toForgePrivate(opts.rootKeyPem),
    notBefore: new Date(now - BACKDATE_MS),
    notAfter,
    extensions: CA_EXTENSIONS(0),
  });
  return { imCertPem, imKeyPem: privateKeyToPem(im.privateKey) };
}

/** Creates a PEM CSR (PKCS#10, SHA-256) with subject CN = proxyId, signed by `privateKey` (which stays local). */
export function createCsr(proxyId: string, privateKey: KeyObject): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = toForgePublic(createPublicKey(privateKey));
  csr.setSubject([{ name: 'commonName', value: proxyId }]);
  csr.sign(toForgePrivate(privateKeyToPem(privateKey)), forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/**
 * Issues an end-entity certificate from a CSR: CN = the CSR's CN (other subject attributes and requested
 * extensions are ignored), basicConstraints CA:false, keyUsage digitalSignature+keyEncipherment.
 * Validity: from `notBefore` (default now − 5 min) until `notBefore ?? now` + validityDays (default 365).
 * @throws CryptoError('malformed') if the CSR cannot be parsed, its self-signature is invalid or it has
 *         no CN; CryptoError('wrong_name') if `expectedCn` is given and differs.
 */
export function issueCertificate(
  csrPem: string,
  issuer: { imCertPem: string; imKeyPem: string },
  opts: { validityDays?: number; notBefore?: Date; expectedCn?: string } = {},
): string {
  let csr: forge.pki.CertificateSigningRequest;
  let valid = false;
  try {
    csr = forge.pki.certificationRequestFromPem(csrPem);
    valid = csr.verify();
  } catch (err) {
    throw new CryptoError('malformed', `invalid CSR: ${(err as Error).message}`, { cause: err });
  }
  if (!valid) throw new CryptoError('malformed', 'CSR self-signature is invalid');
  const cns = csr.subject.attributes.filter((a) => a.name === 'commonName');
  const cn = cns[0]?.value;
  if (cns.length !== 1 || typeof cn !== 'string' || cn === '') throw new CryptoError('malformed', 'CSR must have exactly one CN');
  if (opts.expectedCn !== undefined && cn !== opts.expectedCn) {
    throw new CryptoError('wrong_name', `CSR CN ${cn} ≠ expected ${opts.expectedCn}`);
  }
  if (!csr.publicKey) throw new CryptoError('malformed', 'CSR has no public key');
  const key = csr.publicKey as forge.pki.rsa.PublicKey;
  const problem = rsaKeyProblem(key.n.bitLength(), BigInt(key.e.toString()));
  if (problem) throw new CryptoError('weak_key', `CSR key: ${problem}`);
  const start = opts.notBefore?.getTime() ?? Date.now();
  return buildCert({
    subjectCn: cn,
    publicKey: csr.publicKey,
    issuer: parseForgeCert(issuer.imCertPem, 'issuer'),
    signingKey: toForgePrivate(issuer.imKeyPem),
    notBefore: new Date(opts.notBefore ? start : start - BACKDATE_MS),
    notAfter: new Date(start + (opts.validityDays ?? 365) * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    ],
  });
}
