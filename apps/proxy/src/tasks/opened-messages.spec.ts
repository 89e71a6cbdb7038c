import { generateRsaKeyPair, signMessage } from '@beamline/crypto';
import { OpenedMessages } from './opened-messages';

describe('OpenedMessages', () => {
  const { privateKey } = generateRsaKeyPair(2048);
  let jws: string;
  beforeAll(async () => {
    jws = await signMessage({ hello: 'world' }, privateKey, 'serial-1');
  });

  it('opens a message once per reader, however often it is listed', async () => {
    const cache = new OpenedMessages(async () => true);
    let opens = 0;
    const open = async () => ({ n: ++opens });
    for (let i = 0; i < 1_000; i++) await cache.open('app2.proxy2.broker', jws, open);
    expect(opens).toBe(1);
    await cache.open('app3.proxy2.broker', jws, open);
    expect(opens).toBe(2);
  });

  it('shares one opening between readers of the same message at the same moment', async () => {
    const cache = new OpenedMessages(async () => true);
    let opens = 0;
    const open = async () => {
      opens++;
      await new Promise((r) => setTimeout(r, 20));
      return 'opened';
    };
    const all = await Promise.all(Array.from({ length: 500 }, () => cache.open('app2.proxy2.broker', jws, open)));
    expect(all.every((v) => v === 'opened')).toBe(true);
    expect(opens).toBe(1);
  });

  it('does not keep a failed opening', async () => {
    const cache = new OpenedMessages(async () => true);
    await expect(
      cache.open('app2.proxy2.broker', jws, async () => {
        throw new Error('bad signature');
      }),
    ).rejects.toThrow('bad signature');
    await expect(cache.open('app2.proxy2.broker', jws, async () => 'fine')).resolves.toBe('fine');
  });

  it('opens again (and so verifies again) once the signer is no longer trusted', async () => {
    const trusted = new Set(['serial-1']);
    const cache = new OpenedMessages(async (kid) => trusted.has(kid));
    const open = jest.fn(async () => 'opened');
    await cache.open('app2.proxy2.broker', jws, open);
    trusted.delete('serial-1');
    await cache.open('app2.proxy2.broker', jws, open);
    expect(open).toHaveBeenCalledTimes(2);
  });

  it('keeps no big message', async () => {
    const big = await signMessage({ body: 'x'.repeat(300_000) }, privateKey, 'serial-1');
    const cache = new OpenedMessages(async () => true);
    const open = jest.fn(async () => 'opened');
    await cache.open('app2.proxy2.broker', big, open);
    await cache.open('app2.proxy2.broker', big, open);
    expect(open).toHaveBeenCalledTimes(2);
  });
});
