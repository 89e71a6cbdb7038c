import { randomBytes } from 'crypto';
import { FrameOpener, FrameSealer, MAX_FRAME_PLAINTEXT } from './socket-frames';
import { deriveSocketKeys, generateSocketEphemeral, signSocketHandshake, splitSocketHandshake, verifySocketHandshake } from './socket-handshake';
import { isCryptoError } from './errors';
import { generateKeyPairSync } from 'crypto';

const key = randomBytes(32);

function sealAll(chunks: Buffer[]): Buffer[] {
  const s = new FrameSealer(key);
  return [...chunks.flatMap((c) => s.seal(c)), s.final()];
}

describe('socket frames', () => {
  it('round-trips data split at the frame limit, byte by byte, and ends cleanly', () => {
    const data = randomBytes(MAX_FRAME_PLAINTEXT * 2 + 7);
    const wire = Buffer.concat(sealAll([data, Buffer.from('tail')]));
    const o = new FrameOpener(key);
    const out: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 1000) out.push(...o.push(wire.subarray(i, i + 1000)));
    expect(Buffer.concat(out).equals(Buffer.concat([data, Buffer.from('tail')]))).toBe(true);
    expect(o.done).toBe(true);
    expect(() => o.end()).not.toThrow();
  });

  it('detects truncation, reordering, replay, tampering, data after final, and a wrong key', () => {
    const frames = sealAll([Buffer.from('one'), Buffer.from('two')]);
    const fails = (wire: Buffer[], k = key): boolean => {
      const o = new FrameOpener(k);
      try {
        for (const f of wire) o.push(f);
        o.end();
        return false;
      } catch (err) {
        return isCryptoError(err);
      }
    };
    expect(fails(frames)).toBe(false);
    expect(fails(frames.slice(0, 2))).toBe(true); // no final frame
    expect(fails([frames[1], frames[0], frames[2]])).toBe(true);
    expect(fails([frames[0], frames[0], frames[1], frames[2]])).toBe(true);
    const tampered = Buffer.from(frames[0]);
    tampered[5] ^= 1;
    expect(fails([tampered, frames[1], frames[2]])).toBe(true);
    expect(fails([...frames, frames[0]])).toBe(true);
    expect(fails(frames, randomBytes(32))).toBe(true);
  });
});

describe('socket handshake', () => {
  it('derives matching direction keys on both sides and verifies the signed recipient key', async () => {
    const id = '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8';
    const a = generateSocketEphemeral();
    const b = generateSocketEphemeral();
    const ka = deriveSocketKeys(a.privateKey, b.publicKey, id);
    const kb = deriveSocketKeys(b.privateKey, a.publicKey, id);
    expect(ka.a2b.equals(kb.a2b) && ka.b2a.equals(kb.b2a)).toBe(true);
    expect(ka.a2b.equals(ka.b2a)).toBe(false);
    const proxy = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const record = await signSocketHandshake({ socketId: id, eph: b.publicKey, role: 'b' }, proxy.privateKey, 'ab12');
    const split = splitSocketHandshake(Buffer.concat([record, Buffer.from('rest')]))!;
    expect(split.rest.toString()).toBe('rest');
    expect(await verifySocketHandshake(split.jws, proxy.publicKey, id)).toBe(b.publicKey);
    await expect(verifySocketHandshake(split.jws, proxy.publicKey, '8db76400-e2d9-4d9d-881f-f073336338c1')).rejects.toThrow();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await expect(verifySocketHandshake(split.jws, other.publicKey, id)).rejects.toThrow();
  });
});
