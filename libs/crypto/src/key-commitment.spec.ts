/**
 * Issue 13, attack 8a: Poly1305 does not commit to its key, so a sender can build one ciphertext that two keys
 * both decrypt, to different plaintexts, and wrap a different key for each recipient. This test builds such a
 * ciphertext (solving the Poly1305 tag equation for one free block) and shows that only the key commitment stops it.
 */
import { constants, createCipheriv, createHash, createHmac, publicEncrypt, randomBytes, type KeyObject } from 'crypto';
import { CryptoError } from './errors';
import { openBody, sealBinding, type SealBinding, type SealedBody } from './seal';
import { testKeys } from './test-keys';
import { hchacha20, xchachaDecrypt } from './xchacha';

const P = (1n << 130n) - 5n;
const TWO128 = 1n << 128n;

const leInt = (b: Uint8Array): bigint => b.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
const leBytes = (n: bigint, len: number): Buffer => Buffer.from(Array.from({ length: len }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn)));
const mod = (n: bigint): bigint => ((n % P) + P) % P;
function powMod(base: bigint, exp: bigint): bigint {
  let [result, b, e] = [1n, mod(base), exp];
  for (; e > 0n; e >>= 1n, b = (b * b) % P) if (e & 1n) result = (result * b) % P;
  return result;
}

/** The Poly1305 one-time key (r clamped, s) of XChaCha20-Poly1305 under `key` and the 24-byte `nonce`. */
function polyKey(key: Buffer, nonce: Buffer): { r: bigint; s: bigint } {
  const iv = Buffer.concat([Buffer.alloc(8), nonce.subarray(16, 24)]); // block counter 0 ‖ 0x00000000 ‖ nonce[16..24]
  const block = createCipheriv('chacha20', hchacha20(key, nonce.subarray(0, 16)), iv).update(Buffer.alloc(32));
  return { r: leInt(block.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn, s: leInt(block.subarray(16, 32)) };
}

/** The 17-byte Poly1305 blocks (as numbers) of AD ‖ pad ‖ C ‖ pad ‖ lengths, for a one-block ciphertext `x`. */
function macBlocks(ad: Buffer, x: bigint): bigint[] {
  const padded = Buffer.concat([ad, Buffer.alloc((16 - (ad.length % 16)) % 16)]);
  const blocks: bigint[] = [];
  for (let i = 0; i < padded.length; i += 16) blocks.push(leInt(padded.subarray(i, i + 16)) + TWO128);
  blocks.push(x + TWO128);
  blocks.push(leInt(Buffer.concat([leBytes(BigInt(ad.length), 8), leBytes(16n, 8)])) + TWO128);
  return blocks;
}

const polyHash = (blocks: bigint[], r: bigint): bigint => blocks.reduce((h, m) => ((h + m) * r) % P, 0n);

/** A 16-byte ciphertext ‖ tag that both keys accept under `ad`, or undefined for this nonce (then try another). */
function twoKeyCiphertext(k1: Buffer, k2: Buffer, nonce: Buffer, ad: Buffer): Buffer | undefined {
  const [p1, p2] = [polyKey(k1, nonce), polyKey(k2, nonce)];
  const c = (r: bigint): bigint => polyHash(macBlocks(ad, 0n), r); // hash(x) = c + x·r² (mod p): x sits in the second-to-last block
  const coef = mod(p1.r * p1.r - p2.r * p2.r);
  for (let k = -4n; k <= 3n; k++) {
    const target = (mod(p2.s - p1.s) % TWO128) + k * TWO128; // h1 − h2 must be this, so h1 + s1 ≡ h2 + s2 (mod 2^128)
    const x = mod((target - c(p1.r) + c(p2.r)) * powMod(coef, P - 2n));
    if (x >= TWO128) continue;
    const [h1, h2] = [polyHash(macBlocks(ad, x), p1.r), polyHash(macBlocks(ad, x), p2.r)];
    if ((h1 + p1.s) % TWO128 !== (h2 + p2.s) % TWO128) continue;
    return Buffer.concat([leBytes(x, 16), leBytes((h1 + p1.s) % TWO128, 16)]);
  }
  return undefined;
}

/** What a dishonest sender following the README's v2 format makes: key k1 wrapped for a, k2 for b, committed to k1. */
function dishonestSeal(binding: SealBinding, keys: [KeyObject, KeyObject]): { sealed: SealedBody; k1: Buffer; k2: Buffer; nonce: Buffer; ct: Buffer } {
  const ad = sealBinding(binding);
  const lp = (s: string): Buffer => Buffer.concat([Buffer.from([0, 0, 0, s.length]), Buffer.from(s)]);
  for (;;) {
    const [k1, k2, nonce] = [randomBytes(32), randomBytes(32), randomBytes(24)];
    const ct = twoKeyCiphertext(k1, k2, nonce, ad);
    if (!ct) continue;
    const wrap = (pub: KeyObject, key: Buffer, i: number): string => {
      const oaepLabel = Buffer.concat([lp('beamline wrapped key v2'), createHash('sha256').update(ad).digest(), Buffer.from([0, 0, 0, i])]);
      return publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel }, key).toString('base64');
    };
    const key_commitment = createHmac('sha256', k1).update(lp('beamline key commitment v2')).update(nonce).update(ad).digest('base64');
    const sealed = { encrypted: Buffer.concat([nonce, ct]).toString('base64'), encryption_keys: [wrap(keys[0], k1, 0), wrap(keys[1], k2, 1)], key_commitment };
    return { sealed, k1, k2, nonce, ct };
  }
}

describe('key commitment (issue 13, attack 8a)', () => {
  const [a, b] = testKeys(2);
  const binding: SealBinding = {
    kind: 'task',
    taskId: '0b7e8f5c-1d2e-4f30-8a4b-5c6d7e8f9a0b',
    from: 'app1.proxy1.broker',
    to: ['app1.proxy2.broker', 'app1.proxy3.broker'],
  };

  it('refuses, at the recipient given another key, a ciphertext that two keys both decrypt to different plaintexts', () => {
    const { sealed, k1, k2, nonce, ct } = dishonestSeal(binding, [a.publicKey, b.publicKey]);
    // The ciphertext really is valid under both keys: the AEAD alone would give each recipient its own plaintext.
    const ad = sealBinding(binding);
    const forA = xchachaDecrypt(k1, nonce, ct, ad);
    const forB = xchachaDecrypt(k2, nonce, ct, ad);
    expect(forA.equals(forB)).toBe(false);

    expect(Buffer.from(openBody(sealed, 0, a.privateKey, binding), 'utf8').length).toBeGreaterThan(0);
    let refused: unknown;
    try {
      openBody(sealed, 1, b.privateKey, binding);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(CryptoError);
    expect(refused).toMatchObject({ code: 'decrypt_failed', message: expect.stringContaining('key commitment mismatch') });
  });
});
