import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, unlinkSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify } from 'jose';
import { encodeJson, encodePkiEnvelope, subjects } from '@beamline/nats';
import { PKI_EVENT_JWS_TYP, type PkiEvent } from '@beamline/domain';
import { parseCertificate, verifyCertificate } from '@beamline/crypto';
import { CA_FILES, enroll, initCa, isPkiError, loadCa, PkiDirectory, readPkiJws, signCsr, signPkiEvent, verifyPkiEvent, type LoadedCa } from './index';

const BITS = 2048;
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return isPkiError(err) ? err.code : `not a PkiError: ${String(err)}`;
  }
  return undefined;
};

describe('@beamline/pki', () => {
  let dir: string;
  let ca: LoadedCa;
  let csr: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pki-spec-'));
    ca = initCa(join(dir, 'ca'), { bits: BITS, rootCn: 'Test Root', imCn: 'Test IM' });
    csr = enroll('proxy1.broker', join(dir, 'proxy1.key.pem'), { bits: BITS });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('CA directory', () => {
    it('initCa writes the four files, keys 0600, and loadCa reads them back', () => {
      for (const f of Object.values(CA_FILES)) expect(existsSync(join(dir, 'ca', f))).toBe(true);
      expect(statSync(join(dir, 'ca', CA_FILES.rootKey)).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'ca', CA_FILES.imKey)).mode & 0o777).toBe(0o600);
      const loaded = loadCa(join(dir, 'ca'));
      expect(loaded.root.commonName).toBe('Test Root');
      expect(loaded.im.commonName).toBe('Test IM');
      expect(loaded.im.serial).toBe(ca.im.serial);
    });

    it('refuses to overwrite an existing CA', () => {
      expect(code(() => initCa(join(dir, 'ca'), { bits: BITS }))).toBe('exists');
      expect(loadCa(join(dir, 'ca')).root.serial).toBe(ca.root.serial);
    });

    it('loadCa names a missing file and a key that does not match its certificate', () => {
      const other = join(dir, 'broken');
      initCa(other, { bits: BITS });
      const imKey = readFileSync(join(other, CA_FILES.imKey), 'utf8');
      unlinkSync(join(other, CA_FILES.imKey));
      expect(() => loadCa(other)).toThrow(/im\.key\.pem is missing/);
      writeFileSync(join(other, CA_FILES.imKey), readFileSync(join(other, CA_FILES.rootKey), 'utf8'));
      expect(() => loadCa(other)).toThrow(/im\.key\.pem does not match im\.crt\.pem/);
      writeFileSync(join(other, CA_FILES.imKey), imKey);
      expect(() => loadCa(other)).not.toThrow();
      expect(() => loadCa(join(dir, 'nowhere'))).toThrow(/not a CA directory/);
    });

    it('an expired CA refuses to load and to sign', () => {
      const old = initCa(join(dir, 'expired'), { bits: BITS, validityDays: -1 });
      expect(code(() => loadCa(join(dir, 'expired')))).toBe('ca_expired');
      expect(() => signCsr(old, csr, { proxyId: 'proxy1.broker' })).toThrow(/expired at .*refusing to sign/);
    });
  });

  describe('enroll and signCsr', () => {
    it('enroll writes a 0600 key, refuses to overwrite it, and returns only a CSR for the proxy id', () => {
      const keyFile = join(dir, 'proxy1.key.pem');
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      const keyPem = readFileSync(keyFile, 'utf8');
      expect(csr).toMatch(/^-----BEGIN CERTIFICATE REQUEST-----/);
      expect(csr).not.toContain('PRIVATE KEY');
      expect(code(() => enroll('proxy1.broker', keyFile, { bits: BITS }))).toBe('exists');
      expect(readFileSync(keyFile, 'utf8')).toBe(keyPem);
      const issued = signCsr(ca, csr, { proxyId: 'proxy1.broker' });
      expect(createPublicKey(keyPem).equals(parseCertificate(issued.certPem).publicKey)).toBe(true);
    });

    it('rejects invalid proxy ids, including single labels', () => {
      for (const id of ['broker', '', 'proxy_1.broker', 'proxy 1.broker', '.broker', 'proxy1..broker']) {
        expect(code(() => enroll(id, join(dir, 'never.pem'), { bits: BITS }))).toBe('invalid_input');
      }
      expect(existsSync(join(dir, 'never.pem'))).toBe(false);
    });

    it('issues a certificate that chains to the root, with the serial and validity asked for', () => {
      const issued = signCsr(ca, csr, { proxyId: 'proxy1.broker', validityDays: 30 });
      const info = verifyCertificate(issued.certPem, ca, { now: Date.now(), expectedCn: 'proxy1.broker' });
      expect(info.serial).toBe(issued.serial);
      expect(issued.notAfter.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
      expect(issued.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(30 * 86_400_000);
    });

    it('refuses a CSR for another proxy id, a tampered CSR and a certificate outliving the intermediate', () => {
      expect(() => signCsr(ca, csr, { proxyId: 'proxy2.broker' })).toThrow(/CSR is for "proxy1.broker", not for the expected proxy id "proxy2.broker"/);
      const other = enroll('proxy2.broker', join(dir, 'proxy2.key.pem'), { bits: BITS });
      // Same body, another CSR's signature: the self-signature no longer verifies.
      const body = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
      const a = Buffer.from(body(csr), 'base64');
      const b = Buffer.from(body(other), 'base64');
      const tampered = Buffer.concat([a.subarray(0, a.length - 256), b.subarray(b.length - 256)]).toString('base64');
      const tamperedPem = `-----BEGIN CERTIFICATE REQUEST-----\n${tampered.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
      expect(code(() => signCsr(ca, tamperedPem, { proxyId: 'proxy1.broker' }))).toBe('bad_csr');
      expect(code(() => signCsr(ca, 'not a csr', { proxyId: 'proxy1.broker' }))).toBe('bad_csr');
      expect(code(() => signCsr(ca, csr, { proxyId: 'proxy1.broker', validityDays: 4000 }))).toBe('invalid_input');
    });
  });

  describe('CA-signed events', () => {
    it('are compact PS256 JWS with kid and typ, verifiable with jose', async () => {
      const event: PkiEvent = { type: 'CertificateRevoked', v: 1, serial: 'ab', revokedAt: 1, reason: 'test' };
      const jws = signPkiEvent(event, ca.imKey, ca.im.serial);
      const { protectedHeader, payload } = await compactVerify(jws, createPublicKey(ca.imKey));
      expect(protectedHeader).toEqual({ alg: 'PS256', kid: ca.im.serial, typ: PKI_EVENT_JWS_TYP });
      expect(JSON.parse(Buffer.from(payload).toString())).toEqual(event);
      expect(verifyPkiEvent(jws, createPublicKey(ca.imKey)).event).toEqual(event);
      expect(() => verifyPkiEvent(jws, createPublicKey(ca.rootKey))).toThrow(/does not verify/);
      const [h, , s] = jws.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ ...event, serial: 'cd' })).toString('base64url');
      expect(() => verifyPkiEvent(`${h}.${forgedPayload}.${s}`, createPublicKey(ca.imKey))).toThrow(/does not verify/);
      expect(readPkiJws(jws).kid).toBe(ca.im.serial);
    });
  });

  describe('PkiDirectory', () => {
    const msg = (event: PkiEvent, key = ca.imKey, kid = ca.im.serial) => encodePkiEnvelope(signPkiEvent(event, key, kid));
    let cert: ReturnType<typeof signCsr>;
    let d: PkiDirectory;
    beforeEach(() => {
      cert = signCsr(ca, csr, { proxyId: 'proxy1.broker' });
      d = new PkiDirectory(ca.rootCertPem);
    });
    const im = (): PkiEvent => ({ type: 'IntermediatePublished', v: 1, pem: ca.imCertPem });
    const published = (): PkiEvent => ({ type: 'CertificatePublished', v: 1, serial: cert.serial, pem: cert.certPem });
    const revoked = (): PkiEvent => ({ type: 'CertificateRevoked', v: 1, serial: cert.serial, revokedAt: Date.now() });

    it('honours a correctly signed sequence: intermediate (root), certificate and revocation (intermediate)', () => {
      expect(d.apply(subjects.intermediatePublished, msg(im(), ca.rootKey, ca.root.serial)).accepted).toBe(true);
      expect(d.apply(subjects.certificatePublished(cert.serial), msg(published())).accepted).toBe(true);
      expect(d.listing()[0]).toMatchObject({ serial: cert.serial, proxyId: 'proxy1.broker', status: 'valid' });
      expect(d.apply(subjects.certificateRevoked(cert.serial), msg(revoked())).accepted).toBe(true);
      expect(d.listing()[0].status).toBe('revoked');
    });

    it('ignores unsigned and forged events', () => {
      d.apply(subjects.intermediatePublished, msg(im(), ca.rootKey, ca.root.serial));
      d.apply(subjects.certificatePublished(cert.serial), msg(published()));
      // Unsigned (the old plain-JSON format) revocation.
      const unsigned = d.apply(subjects.certificateRevoked(cert.serial), encodeJson(revoked()));
      expect(unsigned).toMatchObject({ accepted: false, reason: expect.stringMatching(/not a CA-signed event/) });
      // Signed by a stranger's key claiming the intermediate's kid.
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      expect(d.apply(subjects.certificateRevoked(cert.serial), msg(revoked(), stranger)).accepted).toBe(false);
      // Signed by the root instead of the intermediate; on the wrong subject.
      expect(d.apply(subjects.certificateRevoked(cert.serial), msg(revoked(), ca.rootKey, ca.root.serial)).accepted).toBe(false);
      expect(d.apply(subjects.certificateRevoked('00ff'), msg(revoked())).accepted).toBe(false);
      expect(d.isRevoked(cert.serial)).toBe(false);
      expect(d.listing()[0].status).toBe('valid');
    });

    it('accepts an intermediate only when the root signed the event and the certificate chains to the root', () => {
      expect(d.apply(subjects.intermediatePublished, msg(im())).accepted).toBe(false); // signed by the intermediate itself
      expect(d.apply(subjects.intermediatePublished, encodeJson(im())).accepted).toBe(false);
      const other = initCa(join(dir, 'other-ca'), { bits: BITS });
      const foreign: PkiEvent = { type: 'IntermediatePublished', v: 1, pem: other.imCertPem };
      expect(d.apply(subjects.intermediatePublished, msg(foreign, other.rootKey, ca.root.serial)).accepted).toBe(false);
      expect(d.intermediate()).toBeUndefined();
      // Certificates published meanwhile are held and applied once the intermediate is accepted.
      expect(d.apply(subjects.certificatePublished(cert.serial), msg(published()))).toMatchObject({ accepted: false, held: true });
      expect(d.apply(subjects.intermediatePublished, msg(im(), ca.rootKey, ca.root.serial)).accepted).toBe(true);
      expect(d.listing().map((c) => c.status)).toEqual(['valid']);
    });

    it('marks certificates from a foreign CA as untrusted and checks dates at use', () => {
      d.apply(subjects.intermediatePublished, msg(im(), ca.rootKey, ca.root.serial));
      d.apply(subjects.certificatePublished(cert.serial), msg(published()));
      expect(d.listing(cert.notAfter.getTime() + 1000)[0].status).toBe('expired');
      expect(d.listing(cert.notBefore.getTime() - 1000)[0].status).toBe('not_yet_valid');
      const unverified = new PkiDirectory();
      unverified.apply(subjects.certificatePublished(cert.serial), msg(published()));
      expect(unverified.listing()[0].status).toBe('valid');
    });
  });
});
