import { constants, createHash, createHmac, privateDecrypt, randomBytes } from 'crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha';
import { CryptoError } from './errors';
import { openBlob, openBody, sealBinding, sealBlob, sealBody, type SealBinding } from './seal';
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
  const to = ['app1.proxy1.broker', 'app2.proxy2.broker'];
  const task: SealBinding = { kind: 'task', taskId: '6d1c6b1e-2b56-4d2b-9a39-1f0d3b7a1c01', from: 'app9.proxy9.broker', to };
  const single: SealBinding = { ...task, to: [to[0]] };

  it('round-trips for every recipient', () => {
    const sealed = sealBody(body, [a.publicKey, b.publicKey], task);
    expect(sealed.encryption_keys).toHaveLength(2);
    expect(openBody(sealed, 0, a.privateKey, task)).toBe(body);
    expect(openBody(sealed, 1, b.privateKey, task)).toBe(body);
  });

  it('round-trips an empty body and a large body', () => {
    expect(openBody(sealBody('', [a.publicKey], single), 0, a.privateKey, single)).toBe('');
    const big = 'x'.repeat(1_000_000);
    expect(openBody(sealBody(big, [a.publicKey], single), 0, a.privateKey, single)).toBe(big);
  });

  it('lays out the v2 format as the README states: OAEP label, associated data, key commitment, decryptable by @noble', () => {
    const sealed = sealBody(body, [a.publicKey, b.publicKey], task);
    const blob = Buffer.from(sealed.encrypted, 'base64');
    expect(blob.length).toBe(24 + Buffer.byteLength(body) + 16);
    const lp = (s: string): Buffer => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
    const ad = Buffer.concat([lp('beamline sealed body v2'), lp('task'), lp(task.taskId), lp(task.from), u32(2), lp(to[0]), lp(to[1])]);
    expect(sealBinding(task)).toEqual(ad);
    const label = Buffer.concat([lp('beamline wrapped key v2'), createHash('sha256').update(ad).digest(), u32(1)]);
    const key = privateDecrypt(
      { key: b.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label },
      Buffer.from(sealed.encryption_keys[1], 'base64'),
    );
    const commitment = createHmac('sha256', key).update(lp('beamline key commitment v2')).update(blob.subarray(0, 24)).update(ad).digest('base64');
    expect(sealed.key_commitment).toBe(commitment);
    const pt = xchacha20poly1305(key, blob.subarray(0, 24), ad).decrypt(blob.subarray(24));
    expect(Buffer.from(pt).toString('utf8')).toBe(body);
  });

  it('uses a fresh key and nonce per message, and a distinct wrapped key per recipient even behind one proxy', () => {
    const s1 = sealBody(body, [a.publicKey], single);
    const s2 = sealBody(body, [a.publicKey], single);
    expect(s1.encrypted).not.toBe(s2.encrypted);
    expect(s1.encryption_keys[0]).not.toBe(s2.encryption_keys[0]);
    expect(s1.key_commitment).not.toBe(s2.key_commitment);
    const twoApps = sealBody(body, [a.publicKey, a.publicKey], task);
    expect(twoApps.encryption_keys[0]).not.toBe(twoApps.encryption_keys[1]);
    expect(openBody(twoApps, 1, a.privateKey, task)).toBe(body);
  });

  it('refuses a body opened as part of another message: other kind, task, sender or recipients', () => {
    const sealed = sealBody(body, [a.publicKey, b.publicKey], task);
    const others: SealBinding[] = [
      { ...task, kind: 'result' },
      { ...task, taskId: '6d1c6b1e-2b56-4d2b-9a39-1f0d3b7a1c02' },
      { ...task, from: 'app9.proxy8.broker' },
      { ...task, to: [to[0], 'app3.proxy2.broker'] },
      { ...task, to: [to[1], to[0]] },
    ];
    for (const other of others) {
      expectDecryptFailed(() => openBody(sealed, 0, a.privateKey, other));
      expectDecryptFailed(() => openBody(sealed, 1, b.privateKey, other));
    }
  });

  it('refuses a wrapped key moved to another position of the same message', () => {
    const sameProxy = sealBody(body, [a.publicKey, a.publicKey], task);
    const swapped = { ...sameProxy, encryption_keys: [sameProxy.encryption_keys[1], sameProxy.encryption_keys[0]] };
    expectDecryptFailed(() => openBody(swapped, 0, a.privateKey, task));
    expectDecryptFailed(() => openBody(swapped, 1, a.privateKey, task));
  });

  it('refuses a key commitment that does not match the unwrapped key', () => {
    const sealed = sealBody(body, [a.publicKey], single);
    expectDecryptFailed(() => openBody({ ...sealed, key_commitment: flipByte(sealed.key_commitment, 0) }, 0, a.privateKey, single));
    const other = sealBody(body, [a.publicKey], single);
    expectDecryptFailed(() => openBody({ ...sealed, key_commitment: other.key_commitment }, 0, a.privateKey, single));
    for (const bad of ['', 'AAAA', randomBytes(31).toString('base64')]) {
      expectDecryptFailed(() => openBody({ ...sealed, key_commitment: bad }, 0, a.privateKey, single));
    }
  });

  it('rejects the wrong private key', () => {
    expectDecryptFailed(() => openBody(sealBody(body, [a.publicKey], single), 0, b.privateKey, single));
  });

  it('rejects tampered nonce, ciphertext and tag', () => {
    const sealed = sealBody(body, [a.publicKey], single);
    for (const i of [0, 23, 24, 30, -1, -16]) {
      expectDecryptFailed(() => openBody({ ...sealed, encrypted: flipByte(sealed.encrypted, i) }, 0, a.privateKey, single));
    }
    const blob = Buffer.from(sealed.encrypted, 'base64');
    expectDecryptFailed(() => openBody({ ...sealed, encrypted: blob.subarray(0, blob.length - 1).toString('base64') }, 0, a.privateKey, single));
    expectDecryptFailed(() => openBody({ ...sealed, encrypted: blob.subarray(0, 30).toString('base64') }, 0, a.privateKey, single));
    expectDecryptFailed(() => openBody({ ...sealed, encrypted: 'not base64!' }, 0, a.privateKey, single));
  });

  it('rejects a tampered wrapped key', () => {
    const sealed = sealBody(body, [a.publicKey], single);
    expectDecryptFailed(() => openBody({ ...sealed, encryption_keys: [flipByte(sealed.encryption_keys[0], 100)] }, 0, a.privateKey, single));
  });

  it('rejects a wrapped key swapped in from another message', () => {
    const s1 = sealBody(body, [a.publicKey], single);
    const s2 = sealBody(body, [a.publicKey], single);
    expectDecryptFailed(() => openBody({ ...s1, encryption_keys: s2.encryption_keys }, 0, a.privateKey, single));
    expectDecryptFailed(() => openBody({ ...s1, encryption_keys: s2.encryption_keys, key_commitment: s2.key_commitment }, 0, a.privateKey, single));
  });

  it('rejects a wrong key index, out-of-range indices and keys not aligned with the recipients', () => {
    const sealed = sealBody(body, [a.publicKey, b.publicKey], task);
    expectDecryptFailed(() => openBody(sealed, 1, a.privateKey, task));
    for (const i of [-1, 2, 0.5, NaN]) expectDecryptFailed(() => openBody(sealed, i, a.privateKey, task));
    expectDecryptFailed(() => openBody({ ...sealed, encryption_keys: [sealed.encryption_keys[0]] }, 0, a.privateKey, task));
    expect(() => sealBody(body, [a.publicKey, c.publicKey, b.publicKey], task)).toThrow(CryptoError);
  });
});

function u32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(n);
  return out;
}

describe('sealBlob / openBlob (bodies stored as blobs)', () => {
  const [a, b] = testKeys(2);
  const binding: SealBinding = { kind: 'result', taskId: '6d1c6b1e-2b56-4d2b-9a39-1f0d3b7a1c01', from: 'app2.proxy2.broker', to: ['app1.proxy1.broker'] };

  it('round-trips as raw bytes, 40 bytes longer than the body, not base64', () => {
    const body = 'ü'.repeat(500_000);
    const sealed = sealBlob(Buffer.from(body), [a.publicKey], binding);
    expect(sealed.blob.length).toBe(Buffer.byteLength(body) + 40);
    expect(openBlob(sealed, 0, a.privateKey, binding)).toBe(body);
  });

  it('is the same format as an inline body, so either opens the other', () => {
    const sealed = sealBlob(Buffer.from('same bytes'), [a.publicKey], binding);
    expect(openBody({ ...sealed, encrypted: sealed.blob.toString('base64') }, 0, a.privateKey, binding)).toBe('same bytes');
  });

  it('refuses a flipped byte, a truncated blob, another message and another key alike', () => {
    const sealed = sealBlob(Buffer.from('secret'), [a.publicKey], binding);
    const flipped = Buffer.from(sealed.blob);
    flipped[30] ^= 1;
    expectDecryptFailed(() => openBlob({ ...sealed, blob: flipped }, 0, a.privateKey, binding));
    expectDecryptFailed(() => openBlob({ ...sealed, blob: sealed.blob.subarray(0, sealed.blob.length - 1) }, 0, a.privateKey, binding));
    expectDecryptFailed(() => openBlob(sealed, 0, a.privateKey, { ...binding, kind: 'task' }));
    expectDecryptFailed(() => openBlob(sealed, 0, b.privateKey, binding));
  });
});
