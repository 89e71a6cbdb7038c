import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as forge from 'node-forge';
import { caDirText, noProxyText, proxyFor, proxyUrlText, redactedProxy, withProxyVariables, type EgressSettings } from './egress-settings';

const settings = (s: Partial<EgressSettings>): EgressSettings => ({ noProxy: [], extraCas: [], ...s });
const via = (target: string, s: Partial<EgressSettings>): string | undefined => proxyFor(new URL(target), settings(s))?.url.host;

describe('which HTTP proxy the broker is reached through', () => {
  const https = proxyUrlText('http://secure-proxy:3128');
  const http = proxyUrlText('http://plain-proxy:3128');
  const all = proxyUrlText('http://all-proxy:3128');

  it("takes the scheme's own variable first, then ALL_PROXY, else none", () => {
    expect(via('https://broker.example.org', { httpsProxy: https, httpProxy: http, allProxy: all })).toBe('secure-proxy:3128');
    expect(via('http://broker.example.org:8080', { httpsProxy: https, httpProxy: http, allProxy: all })).toBe('plain-proxy:3128');
    expect(via('http://broker.example.org:8080', { httpsProxy: https, allProxy: all })).toBe('all-proxy:3128');
    expect(via('https://broker.example.org', { allProxy: all })).toBe('all-proxy:3128');
    expect(via('https://broker.example.org', { httpProxy: http })).toBeUndefined();
  });

  it('goes direct to hosts in NO_PROXY: the domain and its subdomains, optionally on one port, or every host for *', () => {
    const s = { allProxy: all };
    for (const noProxy of ['example.org', '.example.org', '*.example.org', 'broker.example.org:443', 'other, broker.example.org', '*']) {
      expect(via('https://broker.example.org', { ...s, noProxy: noProxyText(noProxy) })).toBeUndefined();
    }
    for (const noProxy of ['ample.org', 'broker.example.org:8443', 'sub.broker.example.org', 'example.com']) {
      expect(via('https://broker.example.org', { ...s, noProxy: noProxyText(noProxy) })).toBe('all-proxy:3128');
    }
    expect(via('http://[::1]:8080', { ...s, noProxy: noProxyText('::1') })).toBeUndefined();
    expect(via('http://[::1]:8080', { ...s, noProxy: noProxyText('[::1]:8080') })).toBeUndefined();
  });

  it('reads lower- and upper-case variables; the lower-case one wins, as in curl and undici', () => {
    const env = withProxyVariables({ https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2', HTTP_PROXY: 'http://upper:3', no_proxy: 'x' });
    expect(env).toMatchObject({ HTTPS_PROXY: 'http://lower:1', HTTP_PROXY: 'http://upper:3', NO_PROXY: 'x', ALL_PROXY: undefined });
  });
});

describe('proxy URLs', () => {
  it('defaults to http://, refuses SOCKS, and never repeats a password', () => {
    expect(proxyUrlText('proxy.example.org:3128').href).toBe('http://proxy.example.org:3128/');
    expect(() => proxyUrlText('socks5://proxy:1080')).toThrow('only http:// and https:// proxies');
    expect(() => proxyUrlText('http://user:s3cret@[bad')).toThrow(/^not a URL/);
    expect(() => proxyUrlText('http://user:s3cret@[bad')).not.toThrow(/s3cret/);
    expect(redactedProxy(proxyUrlText('http://user:s3cret@proxy:3128'))).toBe('http://proxy:3128 (with credentials)');
  });
});

describe('TLS_CA_CERTIFICATES_DIR', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'beamline-cas-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads every certificate of every file, skipping hidden entries, and refuses a file without one', () => {
    const pem = testCertificatePem();
    writeFileSync(join(dir, 'middlebox.pem'), pem);
    writeFileSync(join(dir, 'bundle.crt'), pem + pem);
    writeFileSync(join(dir, '.hidden'), 'not a certificate');
    const cas = caDirText(dir);
    expect(cas.map((ca) => [ca.file, ca.pems.length])).toEqual([
      [join(dir, 'bundle.crt'), 2],
      [join(dir, 'middlebox.pem'), 1],
    ]);
    expect(cas[1].subjects[0]).toContain('CN=');
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n');
    expect(() => caDirText(dir)).toThrow(`${join(dir, 'key.pem')} holds no PEM certificate`);
  });
});

/** A self-signed CA certificate (node-forge, as libs/devnet's test CAs are made). */
function testCertificatePem(): string {
  const keys = forge.pki.rsa.generateKeyPair(1024);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = '01';
  cert.validity.notBefore = new Date();
  cert.validity.notAfter = new Date(Date.now() + 86_400_000);
  cert.setSubject([{ name: 'commonName', value: 'Test Middlebox CA' }]);
  cert.setIssuer([{ name: 'commonName', value: 'Test Middlebox CA' }]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}
