import { generateKeyPairSync, X509Certificate } from 'crypto';
import * as forge from 'node-forge';
import { publicKeyToPem } from './keys';
import { CryptoError } from './errors';
import { testKeys } from './test-keys';
import { CaBundle, createCa, createCsr, issueCertificate, parseCertificate, verifyCertificate } from './x509';

const DAY = 86_400_000;

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe(code);
    return;
  }
  throw new Error(`expected CryptoError(${code})`);
}

/** Flips one bit near the end of the DER (inside the signature) and re-wraps as PEM. */
function tamperPemSignature(pem: string, label: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  der[der.length - 5] ^= 0x01;
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

describe('x509 CA and certificates', () => {
  const [proxy, stranger] = testKeys(2);
  let ca: CaBundle;
  let otherCa: CaBundle;
  let certPem: string;
  const proxyId = 'proxy1.broker.example';

  beforeAll(() => {
    ca = createCa();
    otherCa = createCa();
    certPem = issueCertificate(createCsr(proxyId, proxy.privateKey), ca, { expectedCn: proxyId });
  });

  it('creates a root CA and an intermediate CA chained to it', () => {
    const root = new X509Certificate(ca.rootCertPem);
    const im = new X509Certificate(ca.imCertPem);
    expect(root.ca && im.ca).toBe(true);
    expect(root.subject).toBe('CN=Beamline Root CA');
    expect(im.subject).toBe('CN=Beamline Intermediate CA');
    expect(im.checkIssued(root) && im.verify(root.publicKey)).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(ca.rootKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(ca.imKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('honours custom CA names', () => {
    const custom = createCa({ rootCn: 'Test Root', imCn: 'Test IM', validityDays: 30 });
    expect(parseCertificate(custom.rootCertPem).commonName).toBe('Test Root');
    expect(parseCertificate(custom.imCertPem).commonName).toBe('Test IM');
  });

  it('issues an end-entity certificate for the CSR key: CN, CA:false, key usage, 365 days', () => {
    const info = parseCertificate(certPem);
    expect(info.commonName).toBe(proxyId);
    expect(info.publicKey.equals(proxy.publicKey)).toBe(true);
    expect(info.notAfter.getTime() - Date.now()).toBeGreaterThan(364 * DAY);
    expect(info.notAfter.getTime() - Date.now()).toBeLessThan(366 * DAY);
    const x = new X509Certificate(certPem);
    expect(x.ca).toBe(false);
    expect(x.issuer).toBe('CN=Beamline Intermediate CA');
    const ku = forge.pki.certificateFromPem(certPem).getExtension('keyUsage') as Record<string, unknown>;
    expect(ku).toMatchObject({ critical: true, digitalSignature: true, keyEncipherment: true, keyCertSign: false });
  });

  it('reports the serial as 32 lowercase hex digits with a leading byte below 0x80', () => {
    const serials = new Set<string>();
    for (const pem of [certPem, ca.rootCertPem, ca.imCertPem, otherCa.imCertPem]) {
      const { serial } = parseCertificate(pem);
      expect(serial).toMatch(/^[1-7][0-9a-f]{31}$/);
      serials.add(serial);
    }
    expect(serials.size).toBe(4);
  });

  it('verifies a certificate against its chain and expected name', () => {
    const info = verifyCertificate(certPem, ca, { now: Date.now(), expectedCn: proxyId });
    expect(info.commonName).toBe(proxyId);
    expect(info.serial).toBe(parseCertificate(certPem).serial);
  });

  it('checks dates and the name at every use, also for a certificate whose signature it checked before', () => {
    const chain = { imCertPem: ca.imCertPem, rootCertPem: ca.rootCertPem };
    for (let i = 0; i < 3; i++) expect(verifyCertificate(certPem, chain, { now: Date.now(), expectedCn: proxyId }).commonName).toBe(proxyId);
    expectCode(() => verifyCertificate(certPem, chain, { now: Date.now() + 400 * DAY }), 'expired');
    expectCode(() => verifyCertificate(certPem, chain, { now: Date.now() - 2 * DAY }), 'not_yet_valid');
    expectCode(() => verifyCertificate(certPem, chain, { now: Date.now(), expectedCn: 'proxy2.broker.example' }), 'wrong_name');
    // A certificate of another CA stays untrusted however often it is presented.
    const foreign = issueCertificate(createCsr(proxyId, stranger.privateKey), otherCa, { expectedCn: proxyId });
    for (let i = 0; i < 2; i++) expectCode(() => verifyCertificate(foreign, chain, { now: Date.now() }), 'untrusted');
  });

  it('rejects a certificate from a different CA as untrusted', () => {
    const foreign = issueCertificate(createCsr(proxyId, proxy.privateKey), otherCa);
    expectCode(() => verifyCertificate(foreign, ca, { now: Date.now() }), 'untrusted');
    expectCode(() => verifyCertificate(certPem, { imCertPem: ca.imCertPem, rootCertPem: otherCa.rootCertPem }, { now: Date.now() }), 'untrusted');
    expectCode(() => verifyCertificate(certPem, { imCertPem: otherCa.imCertPem, rootCertPem: ca.rootCertPem }, { now: Date.now() }), 'untrusted');
  });

  it('rejects a certificate whose validity ended as expired', () => {
    const old = issueCertificate(createCsr(proxyId, proxy.privateKey), ca, { notBefore: new Date(Date.now() - 10 * DAY), validityDays: 1 });
    expectCode(() => verifyCertificate(old, ca, { now: Date.now() }), 'expired');
  });

  it('rejects a valid certificate checked at a future time as expired', () => {
    expectCode(() => verifyCertificate(certPem, ca, { now: Date.now() + 400 * DAY }), 'expired');
    expectCode(() => verifyCertificate(certPem, ca, { now: Date.now() + 4000 * DAY }), 'expired');
  });

  it('rejects a certificate checked before its notBefore as not_yet_valid', () => {
    const future = issueCertificate(createCsr(proxyId, proxy.privateKey), ca, { notBefore: new Date(Date.now() + DAY) });
    expectCode(() => verifyCertificate(future, ca, { now: Date.now() }), 'not_yet_valid');
    expectCode(() => verifyCertificate(certPem, ca, { now: Date.now() - DAY }), 'not_yet_valid');
  });

  it('rejects the wrong name as wrong_name, at verification and at issuance', () => {
    expectCode(() => verifyCertificate(certPem, ca, { now: Date.now(), expectedCn: 'proxy2.broker.example' }), 'wrong_name');
    expectCode(() => issueCertificate(createCsr('proxy2.broker.example', proxy.privateKey), ca, { expectedCn: proxyId }), 'wrong_name');
  });

  it('rejects a CSR whose signature was tampered as malformed', () => {
    const csr = createCsr(proxyId, stranger.privateKey);
    expectCode(() => issueCertificate(tamperPemSignature(csr, 'CERTIFICATE REQUEST'), ca), 'malformed');
    expectCode(() => issueCertificate('not a csr', ca), 'malformed');
  });

  it('rejects a certificate whose signature was tampered as untrusted', () => {
    expectCode(() => verifyCertificate(tamperPemSignature(certPem, 'CERTIFICATE'), ca, { now: Date.now() }), 'untrusted');
  });

  it('rejects the intermediate itself presented as a peer certificate as untrusted', () => {
    expectCode(() => verifyCertificate(ca.imCertPem, ca, { now: Date.now() }), 'untrusted');
  });

  it('rejects a CA certificate signed by the intermediate as bad_certificate', () => {
    const sub = forge.pki.createCertificate();
    sub.serialNumber = '1122334455667788';
    sub.publicKey = forge.pki.publicKeyFromPem(publicKeyToPem(stranger.publicKey));
    sub.validity.notBefore = new Date(Date.now() - DAY);
    sub.validity.notAfter = new Date(Date.now() + DAY);
    sub.setSubject([{ name: 'commonName', value: proxyId }]);
    sub.setIssuer(forge.pki.certificateFromPem(ca.imCertPem).subject.attributes);
    sub.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }]);
    sub.sign(forge.pki.privateKeyFromPem(ca.imKeyPem), forge.md.sha256.create());
    expectCode(() => verifyCertificate(forge.pki.certificateToPem(sub), ca, { now: Date.now() }), 'bad_certificate');
  });

  it('reports unparsable certificates as malformed', () => {
    expectCode(() => parseCertificate('garbage'), 'malformed');
    expectCode(() => verifyCertificate('garbage', ca, { now: Date.now() }), 'malformed');
  });
});

describe('certificates for keys that protect nothing', () => {
  it('refuses to parse a certificate whose RSA key has public exponent 3', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
    cert.serialNumber = '0a';
    cert.validity.notBefore = new Date(Date.now() - 60_000);
    cert.validity.notAfter = new Date(Date.now() + 86_400_000);
    cert.setSubject([{ name: 'commonName', value: 'proxy9.broker' }]);
    cert.setIssuer([{ name: 'commonName', value: 'proxy9.broker' }]);
    cert.sign(key, forge.md.sha256.create());
    expect(() => parseCertificate(forge.pki.certificateToPem(cert))).toThrow(expect.objectContaining({ code: 'weak_key' }));
  });
});
