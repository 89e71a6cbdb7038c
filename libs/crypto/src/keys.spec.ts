import { createPublicKey, generateKeyPairSync } from 'crypto';
import { CryptoError } from './errors';
import { privateKeyFromPem, privateKeyToPem, publicKeyFromPem, publicKeyToPem } from './keys';
import { testKeys } from './test-keys';

describe('keys', () => {
  const [kp] = testKeys(1);

  it('generates 2048-bit RSA keys by default', () => {
    expect(kp.privateKey.asymmetricKeyType).toBe('rsa');
    expect(kp.privateKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
  });

  it('round-trips a private key through PKCS#8 PEM', () => {
    const pem = privateKeyToPem(kp.privateKey);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(privateKeyFromPem(pem).equals(kp.privateKey)).toBe(true);
  });

  it('accepts PKCS#1 private key PEM', () => {
    const pkcs1 = kp.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
    expect(privateKeyFromPem(pkcs1).equals(kp.privateKey)).toBe(true);
  });

  it('exports the public key (from public or private KeyObject) as SPKI PEM', () => {
    const a = publicKeyToPem(kp.publicKey);
    expect(a).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(publicKeyToPem(kp.privateKey)).toBe(a);
    expect(publicKeyFromPem(a).equals(createPublicKey(kp.privateKey))).toBe(true);
  });

  it('rejects bad PEM and non-RSA keys as malformed', () => {
    const bad = () => privateKeyFromPem('-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----');
    expect(bad).toThrow(CryptoError);
    expect(bad).toThrow(expect.objectContaining({ code: 'malformed' }));
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(() => privateKeyFromPem(ec)).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});
