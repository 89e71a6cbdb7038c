/**
 * The CA directory on disk: `root.crt.pem`, `root.key.pem` (0600), `im.crt.pem`, `im.key.pem` (0600).
 * The root signs only intermediates and the IntermediatePublished / IntermediateRetired events; the
 * intermediate issues proxy certificates and signs the other directory events. After a rotation the
 * previous intermediate is kept as `im-<serial>.crt.pem` / `im-<serial>.key.pem`.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createCa, createIntermediate, parseCertificate, privateKeyFromPem, type CertInfo } from '@beamline/crypto';
import { PkiError } from './errors';

export const CA_FILES = {
  rootCert: 'root.crt.pem',
  rootKey: 'root.key.pem',
  imCert: 'im.crt.pem',
  imKey: 'im.key.pem',
} as const;

export interface InitCaOptions {
  /** Validity of both CA certificates, from 5 minutes ago; default 3650. (Negative: already expired — tests only.) */
  validityDays?: number;
  /** Default 'Beamline Root CA'. */
  rootCn?: string;
  /** Default 'Beamline Intermediate CA'. */
  imCn?: string;
  /** RSA modulus length of both CA keys; default 4096. */
  bits?: number;
}

/** A CA loaded from its directory. `rootCertPem`/`imCertPem` + `imKeyPem` are what `issueCertificate` takes. */
export interface LoadedCa {
  dir: string;
  rootCertPem: string;
  imCertPem: string;
  imKeyPem: string;
  root: CertInfo;
  im: CertInfo;
  rootKey: KeyObject;
  imKey: KeyObject;
}

/**
 * Creates a root and an intermediate CA in `dir` (created 0700 if missing).
 * @throws PkiError('exists') if any CA file is already there — an existing CA is never overwritten.
 */
export function initCa(dir: string, opts: InitCaOptions = {}): LoadedCa {
  const validityDays = opts.validityDays ?? 3650;
  const bits = opts.bits ?? 4096;
  if (!Number.isInteger(validityDays) || validityDays === 0)
    throw new PkiError('invalid_input', `validity days must be a non-zero integer, got ${validityDays}`);
  if (!Number.isInteger(bits) || bits < 2048 || bits > 16384) throw new PkiError('invalid_input', `key size must be 2048..16384 bits, got ${bits}`);
  for (const cn of [opts.rootCn, opts.imCn]) {
    if (cn !== undefined && (cn.trim() === '' || cn.length > 64))
      throw new PkiError('invalid_input', `a CA common name must be 1..64 characters, got ${JSON.stringify(cn)}`);
  }
  const existing = Object.values(CA_FILES).filter((f) => existsSync(join(dir, f)));
  if (existing.length > 0) {
    throw new PkiError('exists', `${dir} already holds a CA (${existing.join(', ')}); refusing to overwrite it`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const bundle = createCa({ rootCn: opts.rootCn, imCn: opts.imCn, validityDays, bits });
  // Keys first, exclusively (flag wx) and 0600 from the start; chmod too, against a umask-free mode.
  writeSecret(join(dir, CA_FILES.rootKey), bundle.rootKeyPem);
  writeSecret(join(dir, CA_FILES.imKey), bundle.imKeyPem);
  writeFileSync(join(dir, CA_FILES.rootCert), bundle.rootCertPem, { flag: 'wx', mode: 0o644 });
  writeFileSync(join(dir, CA_FILES.imCert), bundle.imCertPem, { flag: 'wx', mode: 0o644 });
  return loadCa(dir, { checkDates: false });
}

/**
 * Rotates the issuing intermediate: a new key and a root-signed certificate become `im.*.pem`, the
 * previous ones are kept as `im-<serial>.*.pem`. Nothing is published here (see publishIntermediate), and
 * certificates of the previous intermediate stay trusted until it is retired or expires.
 */
export function rotateIntermediate(dir: string, opts: { validityDays?: number; imCn?: string; bits?: number; now?: number } = {}): LoadedCa {
  const current = loadCa(dir, { now: opts.now });
  const validityDays = opts.validityDays ?? 3650;
  if (!Number.isInteger(validityDays) || validityDays <= 0)
    throw new PkiError('invalid_input', `validity days must be a positive integer, got ${validityDays}`);
  const imCn = opts.imCn ?? `Beamline Intermediate CA ${new Date(opts.now ?? Date.now()).toISOString().slice(0, 10)}`;
  if (imCn.trim() === '' || imCn.length > 64) throw new PkiError('invalid_input', `a CA common name must be 1..64 characters, got ${JSON.stringify(imCn)}`);
  const next = createIntermediate({
    rootCertPem: current.rootCertPem,
    rootKeyPem: readFileSync(join(dir, CA_FILES.rootKey), 'utf8'),
    imCn,
    validityDays,
    bits: opts.bits ?? 4096,
    now: opts.now,
  });
  // The new pair is written beside the old one first, so an interrupted rotation never loses a key.
  const staged = { cert: join(dir, 'im.next.crt.pem'), key: join(dir, 'im.next.key.pem') };
  writeSecret(staged.key, next.imKeyPem);
  writeFileSync(staged.cert, next.imCertPem, { flag: 'wx', mode: 0o644 });
  const archived = { cert: join(dir, `im-${current.im.serial}.crt.pem`), key: join(dir, `im-${current.im.serial}.key.pem`) };
  renameSync(join(dir, CA_FILES.imKey), archived.key);
  renameSync(join(dir, CA_FILES.imCert), archived.cert);
  renameSync(staged.key, join(dir, CA_FILES.imKey));
  renameSync(staged.cert, join(dir, CA_FILES.imCert));
  return loadCa(dir, { now: opts.now });
}

/** Writes a private key file: never over an existing file, mode 0600. */
export function writeSecret(file: string, pem: string): void {
  try {
    writeFileSync(file, pem, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new PkiError('exists', `${file} already exists; refusing to overwrite it`);
    throw err;
  }
  chmodSync(file, 0o600);
}

/**
 * Loads and checks a CA directory: all four files present and readable, each key matching its certificate,
 * the root self-signed and a CA, the intermediate a CA signed by the root, and (unless `checkDates` is
 * false) both valid at `now`.
 * @throws PkiError 'missing' | 'bad_ca' | 'ca_expired' | 'ca_not_yet_valid'.
 */
export function loadCa(dir: string, opts: { now?: number; checkDates?: boolean } = {}): LoadedCa {
  const read = (name: string): string => {
    const file = join(dir, name);
    if (!existsSync(file)) {
      throw new PkiError('missing', `${file} is missing: ${dir} is not a CA directory (create one with "beamline pki init --ca-dir ${dir}")`);
    }
    return readFileSync(file, 'utf8');
  };
  const rootCertPem = read(CA_FILES.rootCert);
  const rootKeyPem = read(CA_FILES.rootKey);
  const imCertPem = read(CA_FILES.imCert);
  const imKeyPem = read(CA_FILES.imKey);
  const cert = (pem: string, name: string): { x: X509Certificate; info: CertInfo } => {
    try {
      return { x: new X509Certificate(pem), info: parseCertificate(pem) };
    } catch (err) {
      throw new PkiError('bad_ca', `${join(dir, name)}: not a readable certificate (${(err as Error).message})`);
    }
  };
  const key = (pem: string, name: string): KeyObject => {
    try {
      return privateKeyFromPem(pem);
    } catch (err) {
      throw new PkiError('bad_ca', `${join(dir, name)}: not a readable RSA private key (${(err as Error).message})`);
    }
  };
  const root = cert(rootCertPem, CA_FILES.rootCert);
  const im = cert(imCertPem, CA_FILES.imCert);
  const rootKey = key(rootKeyPem, CA_FILES.rootKey);
  const imKey = key(imKeyPem, CA_FILES.imKey);
  if (!createPublicKey(rootKey).equals(root.x.publicKey)) throw new PkiError('bad_ca', `${join(dir, CA_FILES.rootKey)} does not match ${CA_FILES.rootCert}`);
  if (!createPublicKey(imKey).equals(im.x.publicKey)) throw new PkiError('bad_ca', `${join(dir, CA_FILES.imKey)} does not match ${CA_FILES.imCert}`);
  if (!root.x.ca || !root.x.checkIssued(root.x) || !root.x.verify(root.x.publicKey))
    throw new PkiError('bad_ca', `${CA_FILES.rootCert} is not a self-signed CA certificate`);
  if (!im.x.ca || !im.x.checkIssued(root.x) || !im.x.verify(root.x.publicKey))
    throw new PkiError('bad_ca', `${CA_FILES.imCert} is not a CA certificate signed by ${CA_FILES.rootCert}`);
  const ca: LoadedCa = { dir, rootCertPem, imCertPem, imKeyPem, root: root.info, im: im.info, rootKey, imKey };
  if (opts.checkDates !== false) assertCaUsable(ca, opts.now ?? Date.now());
  return ca;
}

/**
 * Refuses to act with a CA outside its validity.
 * @throws PkiError('ca_expired' | 'ca_not_yet_valid').
 */
export function assertCaUsable(ca: Pick<LoadedCa, 'root' | 'im'>, now: number = Date.now()): void {
  for (const [what, c] of [
    ['root', ca.root],
    ['intermediate', ca.im],
  ] as const) {
    if (now > c.notAfter.getTime()) {
      throw new PkiError('ca_expired', `the ${what} CA certificate (${c.commonName}) expired at ${c.notAfter.toISOString()}; refusing to sign`);
    }
    if (now < c.notBefore.getTime()) {
      throw new PkiError('ca_not_yet_valid', `the ${what} CA certificate (${c.commonName}) is not valid before ${c.notBefore.toISOString()}; refusing to sign`);
    }
  }
}
