import { randomBytes } from 'crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha';
import { CryptoError } from './errors';
import { hchacha20, xchachaDecrypt, xchachaEncrypt } from './xchacha';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('xchacha (HChaCha20 subkey + native ChaCha20-Poly1305)', () => {
  it('matches the draft-irtf-cfrg-xchacha-03 §2.2.1 HChaCha20 test vector', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    const nonce = hex('000000090000004a0000000031415927');
    expect(hchacha20(key, nonce).toString('hex')).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  });

  it('matches the draft-irtf-cfrg-xchacha-03 §A.3.1 AEAD test vector', () => {
    const pt = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    const aad = hex('50515253c0c1c2c3c4c5c6c7');
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hex('404142434445464748494a4b4c4d4e4f5051525354555657');
    const out = xchachaEncrypt(key, nonce, pt, aad);
    expect(out.subarray(out.length - 16).toString('hex')).toBe('c0875924c1c7987947deafd8780acf49');
    expect(out.subarray(0, 16).toString('hex')).toBe('bd6d179d3e83d43b9576579493c0e939');
  });

  it.each([0, 1, 63, 64, 65, 1000, 70_000])('is byte-identical to @noble xchacha20poly1305 for %i-byte plaintexts, with and without aad', (n) => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const pt = randomBytes(n);
    const aad = randomBytes(13);
    expect(xchachaEncrypt(key, nonce, pt)).toEqual(Buffer.from(xchacha20poly1305(key, nonce).encrypt(pt)));
    expect(xchachaEncrypt(key, nonce, pt, aad)).toEqual(Buffer.from(xchacha20poly1305(key, nonce, aad).encrypt(pt)));
    const nobleSealed = xchacha20poly1305(key, nonce, aad).encrypt(pt);
    expect(xchachaDecrypt(key, nonce, nobleSealed, aad)).toEqual(pt);
  });

  it('rejects a flipped ciphertext bit with decrypt_failed', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const sealed = xchachaEncrypt(key, nonce, Buffer.from('hello'));
    sealed[0] ^= 1;
    expect(() => xchachaDecrypt(key, nonce, sealed)).toThrow(CryptoError);
  });
});
