import { parseCertificate, verifyCertificate } from '@beamline/crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDevPki } from './dev-pki';

describe('generateDevPki', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'devnet-spec-pki-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the root, the intermediate, 0600 keys and certificates named after each proxy', () => {
    const pki = generateDevPki(dir, ['proxy1.broker', 'proxy2.broker']);
    expect(pki.rootCertFile).toBe(join(dir, 'root.crt.pem'));
    expect(readFileSync(pki.rootCertFile, 'utf8')).toBe(pki.ca.rootCertPem);
    expect(readFileSync(join(dir, 'im.crt.pem'), 'utf8')).toBe(pki.ca.imCertPem);
    expect(pki.proxies.map((p) => p.id)).toEqual(['proxy1.broker', 'proxy2.broker']);
    for (const proxy of pki.proxies) {
      expect(proxy.keyFile).toBe(join(dir, `${proxy.id}.priv.pem`));
      expect(statSync(proxy.keyFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(proxy.keyFile, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(readFileSync(join(dir, `${proxy.id}.crt.pem`), 'utf8')).toBe(proxy.certPem);
      const cert = parseCertificate(proxy.certPem);
      expect(cert.commonName).toBe(proxy.id);
      expect(cert.serial).toBe(proxy.serial);
      expect(() => verifyCertificate(proxy.certPem, pki.ca, { now: Date.now(), expectedCn: proxy.id })).not.toThrow();
    }
    expect(new Set(pki.proxies.map((p) => p.serial)).size).toBe(2);
  });
});
