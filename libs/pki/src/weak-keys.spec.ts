/**
 * Attacks on the CA with keys that protect nothing: a CSR for an RSA key with public exponent 1 "verifies"
 * although nobody holds a private key for it (its self-signature is just the padded digest), and such a key
 * would let anyone forge its signatures and read what is wrapped to it. The CA issues nothing for it, nor for
 * e = 3 or a short modulus.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as forge from 'node-forge';
import { initCa, isPkiError, signCsr, type LoadedCa } from './index';

const SHA256_DIGEST_INFO = Buffer.from('3031300d060960864801650304020105000420', 'hex');

function csrFor(publicKey: forge.pki.rsa.PublicKey, sign: (md: forge.md.MessageDigest) => string): string {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = publicKey;
  csr.setSubject([{ name: 'commonName', value: 'proxy9.broker' }]);
  csr.sign({ sign } as unknown as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificationRequestToPem(csr);
}

/** A CSR for (n, e = 1) whose "self-signature" is made without any private key: the PKCS#1 v1.5 padded digest itself. */
function forgedExponentOneCsr(): string {
  const n = forge.pki.privateKeyFromPem(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()).n;
  const publicKey = forge.pki.setRsaPublicKey(n, new forge.jsbn.BigInteger('1'));
  return csrFor(publicKey, (md) => {
    const t = Buffer.concat([SHA256_DIGEST_INFO, Buffer.from(md.digest().getBytes(), 'binary')]);
    const em = Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(256 - 3 - t.length, 0xff), Buffer.from([0]), t]);
    return em.toString('binary');
  });
}

function csrWithExponent(publicExponent: number, modulusLength = 2048): string {
  const pem = generateKeyPairSync('rsa', { modulusLength, publicExponent }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(pem);
  return csrFor(forge.pki.setRsaPublicKey(key.n, key.e), (md) => key.sign(md));
}

/** Made once with `openssl req -new -key <key> -subj /CN=proxy1.broker` for a P-256 and an Ed25519 key: valid CSRs of keys Beamline does not use. */
const EC_P256_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIHRMHoCAQAwGDEWMBQGA1UEAwwNcHJveHkxLmJyb2tlcjBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABONd9hWVHmP4p55fXX/oV70RNVCkbIq63/CZ+xb5l0aBpDvB
FlII/beNvNYYzZdDhPd9+9JpXOzuuA7GCR7lT9agADAKBggqhkjOPQQDAgNHADBE
AiBnSScul8IlqerXFfVCL18X56l2vLWpiY6vJwqBJ+S2/gIgOpWo7OMTNtktg4WE
k5vDxjSw5Z3akeFAtRTHzbFjXTc=
-----END CERTIFICATE REQUEST-----
`;
const ED25519_CSR = `-----BEGIN CERTIFICATE REQUEST-----
MIGXMEsCAQAwGDEWMBQGA1UEAwwNcHJveHkxLmJyb2tlcjAqMAUGAytlcAMhAOLO
xzPQGEOdH71iRMTQlB8xvUCVyL4qB0QjOJRiJFe0oAAwBQYDK2VwA0EAA/Ld1crX
NkprxBIXfpt/K/ZsVkaIhBbROkOzh8Nq0kJk0QqkPRYxpLr4h1YjLa8llcE+2sgz
+AEI0bp1UAa6DA==
-----END CERTIFICATE REQUEST-----
`;

describe('the CA and keys that protect nothing', () => {
  let dir: string;
  let ca: LoadedCa;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pki-weak-'));
    ca = initCa(join(dir, 'ca'), { bits: 2048, rootCn: 'Test Root', imCn: 'Test IM' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refusal = (csr: string): string => {
    try {
      signCsr(ca, csr, { proxyId: 'proxy9.broker' });
    } catch (err) {
      return isPkiError(err) ? `${err.code}: ${err.message}` : `not a PkiError: ${String(err)}`;
    }
    return 'issued';
  };

  it('shows the attack: a CSR for e = 1 passes its self-signature check without any private key', () => {
    expect(forge.pki.certificationRequestFromPem(forgedExponentOneCsr()).verify()).toBe(true);
  });

  it('issues nothing for it', () => {
    expect(refusal(forgedExponentOneCsr())).toMatch(/^bad_csr: .*public exponent of 1/);
  });

  it('issues nothing for e = 3 or a 1024-bit modulus, and issues for the usual e = 65537', () => {
    expect(refusal(csrWithExponent(3))).toMatch(/^bad_csr: .*public exponent of 3/);
    expect(refusal(csrWithExponent(65537, 1024))).toMatch(/^bad_csr: .*at least 2048 bits/);
    expect(refusal(csrWithExponent(65537))).toBe('issued');
  });

  it('issues nothing for a CSR of an EC or Ed25519 key (message signatures and key wrapping are RSA only)', () => {
    expect(refusal(EC_P256_CSR)).toMatch(/^bad_csr: /);
    expect(refusal(ED25519_CSR)).toMatch(/^bad_csr: /);
  });
});
