import { constants, createPublicKey, privateDecrypt, randomBytes } from 'crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha';
import { CryptoError } from './errors';
import { openBody, sealBody } from './seal';
import { testKeys } from './test-keys';

function expectDecryptFailed(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CryptoError);
    expect((err as CryptoError).code).toBe('decrypt_failed');
    return;
  }
  throw new Error('expected decrypt_failed');
}

const flipByte = (b64: string, index: number): string => {
  const buf = Buffer.from(b64, 'base64');
  buf[index < 0 ? buf.length + index : index] ^= 0x01;
  return buf.toString('base64');
};

describe('sealBody / openBody', () => {
  const [a, b, c] = testKeys(3);
  const body = 'héllo wörld — {"task":"x"} 🚀';

  it('round-trips for every recipient', () => {
    const sealed = sealBody(body, [a.publicKey, b.publicKey]);
    expect(sealed.encryption_keys).toHaveLength(2);
    expect(openBody(sealed, 0, a.privateKey)).toBe(body);
    expect(openBody(sealed, 1, b.privateKey)).toBe(body);
  });

  it('round-trips an empty body and a large body', () => {
    expect(openBody(sealBody('', [a.publicKey]), 0, a.privateKey)).toBe('');
    const big = 'x'.repeat(1_000_000);
    expect(openBody(sealBody(big, [a.publicKey]), 0, a.privateKey)).toBe(big);
  });

  it('lays out encrypted as base64(nonce24 ‖ ciphertext ‖ tag16) decryptable by @noble with the unwrapped key', () => {
    const sealed = sealBody(body, [a.publicKey]);
    const blob = Buffer.from(sealed.encrypted, 'base64');
    expect(blob.length).toBe(24 + Buffer.byteLength(body) + 16);
    const key = privateDecrypt(
      { key: a.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      Buffer.from(sealed.encryption_keys[0], 'base64'),
    );
    const pt = xchacha20poly1305(key, blob.subarray(0, 24)).decrypt(blob.subarray(24));
    expect(Buffer.from(pt).toString('utf8')).toBe(body);
  });

  it('uses a fresh key and nonce per message', () => {
    const s1 = sealBody(body, [a.publicKey]);
    const s2 = sealBody(body, [a.publicKey]);
    expect(s1.encrypted).not.toBe(s2.encrypted);
    expect(s1.encryption_keys[0]).not.toBe(s2.encryption_keys[0]);
  });

  it('wraps a repeated recipient key once and reuses it', () => {
    const again = c.publicKey.export({ format: 'pem', type: 'spki' });
    const sealed = sealBody(body, [a.publicKey, c.publicKey, a.publicKey, createPublicKey(again)]);
    expect(sealed.encryption_keys[2]).toBe(sealed.encryption_keys[0]);
    expect(sealed.encryption_keys[3]).toBe(sealed.encryption_keys[1]);
    expect(sealed.encryption_keys[0]).not.toBe(sealed.encryption_keys[1]);
    expect(openBody(sealed, 2, a.privateKey)).toBe(body);
    expect(openBody(sealed, 3, c.privateKey)).toBe(body);
  });

  it('binds aad: same aad opens, different or missing aad is rejected', () => {
    const aad = Buffer.from('task:42');
    const sealed = sealBody(body, [a.publicKey], aad);
    expect(openBody(sealed, 0, a.privateKey, Buffer.from('task:42'))).toBe(body);
    expectDecryptFailed(() => openBody(sealed, 0, a.privateKey, Buffer.from('task:43')));
    expectDecryptFailed(() => openBody(sealed, 0, a.privateKey));
    expectDecryptFailed(() => openBody(sealBody(body, [a.publicKey]), 0, a.privateKey, aad));
  });

  it('rejects the wrong private key', () => {
    expectDecryptFailed(() => openBody(sealBody(body, [a.publicKey]), 0, b.privateKey));
  });

  it('rejects tampered nonce, ciphertext and tag', () => {
    const sealed = sealBody(body, [a.publicKey]);
    for (const i of [0, 23, 24, 30, -1, -16]) {
      expectDecryptFailed(() => openBody({ ...sealed, encrypted: flipByte(sealed.encrypted, i) }, 0, a.privateKey));
    }
    const blob = Buffer.from(sealed.encrypted, 'base64');
    expectDecryptFailed(() => openBody({ ...sealed, encrypted: blob.subarray(0, blob.length - 1).toString('base64') }, 0, a.privateKey));
    expectDecryptFailed(() => openBody({ ...sealed, encrypted: blob.subarray(0, 30).toString('base64') }, 0, a.privateKey));
    expectDecryptFailed(() => openBody({ ...sealed, encrypted: 'not base64!' }, 0, a.privateKey));
  });

  it('rejects a tampered wrapped key', () => {
    const sealed = sealBody(body, [a.publicKey]);
    expectDecryptFailed(() => openBody({ ...sealed, encryption_keys: [flipByte(sealed.encryption_keys[0], 100)] }, 0, a.privateKey));
  });

  it('rejects a wrapped key swapped in from another message', () => {
    const s1 = sealBody(body, [a.publicKey]);
    const s2 = sealBody(body, [a.publicKey]);
    expectDecryptFailed(() => openBody({ encrypted: s1.encrypted, encryption_keys: s2.encryption_keys }, 0, a.privateKey));
  });

  it('rejects a swapped key index and out-of-range indices', () => {
    const sealed = sealBody(body, [a.publicKey, b.publicKey]);
    expectDecryptFailed(() => openBody(sealed, 1, a.privateKey));
    expectDecryptFailed(() => openBody({ ...sealed, encryption_keys: [sealed.encryption_keys[1], sealed.encryption_keys[0]] }, 0, a.privateKey));
    for (const i of [-1, 2, 0.5, NaN]) expectDecryptFailed(() => openBody(sealed, i, a.privateKey));
  });

  it('never decrypts with a random key under a valid-looking wrapped key', () => {
    const sealed = sealBody(body, [a.publicKey]);
    const forged = sealBody('evil', [a.publicKey]);
    const mixed = {
      encrypted: Buffer.concat([Buffer.from(sealed.encrypted, 'base64').subarray(0, 24), randomBytes(40)]).toString('base64'),
      encryption_keys: forged.encryption_keys,
    };
    expectDecryptFailed(() => openBody(mixed, 0, a.privateKey));
  });
});
