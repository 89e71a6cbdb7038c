import { createHash } from 'crypto';
import { CryptoError } from './errors';
import { canonicalJson, keyedDigest, messageDigestKey, sha256Base64Url } from './digest';
import { privateKeyFromPem, privateKeyToPem } from './keys';
import { testKeys } from './test-keys';

describe('digest', () => {
  const [a, b] = testKeys(2);

  it('sha256Base64Url hashes strings as UTF-8 and bytes as-is, unpadded base64url', () => {
    expect(sha256Base64Url('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(sha256Base64Url(new Uint8Array(0))).toBe(sha256Base64Url(''));
    expect(sha256Base64Url('ü')).toBe(createHash('sha256').update(Buffer.from('ü', 'utf8')).digest('base64url'));
  });

  it('derives the same digest key from the same private key (replicas sharing a key agree)', () => {
    const again = privateKeyFromPem(privateKeyToPem(a.privateKey));
    expect(messageDigestKey(again)).toEqual(messageDigestKey(a.privateKey));
    expect(messageDigestKey(a.privateKey)).toHaveLength(32);
    expect(messageDigestKey(a.privateKey)).not.toEqual(messageDigestKey(b.privateKey));
  });

  it('refuses a public key for messageDigestKey', () => {
    expect(() => messageDigestKey(a.publicKey)).toThrow(CryptoError);
  });

  it('keyedDigest tells identical retries from conflicting messages and depends on the key', () => {
    const k = messageDigestKey(a.privateKey);
    const m1 = canonicalJson({ to: ['x'], body: 'hi', id: 1 });
    const m1Reordered = canonicalJson({ id: 1, body: 'hi', to: ['x'] });
    const m2 = canonicalJson({ to: ['x'], body: 'ho', id: 1 });
    expect(keyedDigest(k, m1)).toBe(keyedDigest(k, m1Reordered));
    expect(keyedDigest(k, m1)).not.toBe(keyedDigest(k, m2));
    expect(keyedDigest(messageDigestKey(b.privateKey), m1)).not.toBe(keyedDigest(k, m1));
    expect(keyedDigest(k, m1)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('canonicalJson sorts keys recursively (including integer-like keys) without whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, '10': 0, '9': 0 })).toBe('{"10":0,"9":0,"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  });

  it('canonicalJson follows JSON.stringify for undefined, non-finite numbers, toJSON and strings', () => {
    const d = new Date(0);
    const v = { u: undefined, f: () => 1, n: NaN, arr: [undefined, Infinity], d, s: 'a"\n\u2028' };
    expect(canonicalJson(v)).toBe(`{"arr":[null,null],"d":${JSON.stringify(d)},"n":null,"s":${JSON.stringify('a"\n\u2028')}}`);
    expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
  });

  it('canonicalJson rejects cycles, BigInt and undefined as malformed', () => {
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    for (const bad of [cyc, 1n, undefined]) {
      expect(() => canonicalJson(bad)).toThrow(expect.objectContaining({ code: 'malformed' }));
    }
    const shared = { x: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
});
