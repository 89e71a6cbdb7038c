import { constants, verify } from 'crypto';
import { CryptoError } from './errors';
import { MESSAGE_JWS_TYP, readJwsKid, signMessage, verifyMessage } from './jws';
import { signRequest } from './request-auth';
import { testKeys } from './test-keys';

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(CryptoError);
  await expect(p).rejects.toMatchObject({ code });
}

const b64urlJson = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('message JWS', () => {
  const [signer, other] = testKeys(2);
  const kid = '5f0e1d2c3b4a59687766554433221100';
  const payload = { id: 'task-1', from: 'app1.proxy1.broker', to: ['app2.proxy2.broker'], body: { encrypted: 'AAA=', encryption_keys: ['BBB='] } };

  it('round-trips the payload and exposes kid, alg PS256 and typ in the header', async () => {
    const jws = await signMessage(payload, signer.privateKey, kid);
    expect(jws.split('.')).toHaveLength(3);
    const header = JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString());
    expect(header).toEqual({ alg: 'PS256', kid, typ: MESSAGE_JWS_TYP });
    expect(readJwsKid(jws)).toBe(kid);
    await expect(verifyMessage(jws, signer.publicKey)).resolves.toEqual(payload);
  });

  it('produces RSASSA-PSS SHA-256 salt-32 signatures over header.payload (verifiable without jose)', async () => {
    const [h, p, s] = (await signMessage(payload, signer.privateKey, kid)).split('.');
    const ok = verify(
      'sha256',
      Buffer.from(`${h}.${p}`),
      { key: signer.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
      Buffer.from(s, 'base64url'),
    );
    expect(ok).toBe(true);
  });

  it('rejects a tampered header (changed kid) as bad_signature', async () => {
    const [, p, s] = (await signMessage(payload, signer.privateKey, kid)).split('.');
    const h = b64urlJson({ alg: 'PS256', kid: 'ff', typ: MESSAGE_JWS_TYP });
    await expectCode(verifyMessage(`${h}.${p}.${s}`, signer.publicKey), 'bad_signature');
  });

  it('rejects a tampered payload as bad_signature', async () => {
    const [h, , s] = (await signMessage(payload, signer.privateKey, kid)).split('.');
    const p = b64urlJson({ ...payload, to: ['evil.proxy3.broker'] });
    await expectCode(verifyMessage(`${h}.${p}.${s}`, signer.publicKey), 'bad_signature');
  });

  it('rejects a tampered signature as bad_signature', async () => {
    const [h, p, s] = (await signMessage(payload, signer.privateKey, kid)).split('.');
    const sig = Buffer.from(s, 'base64url');
    sig[10] ^= 0x80;
    await expectCode(verifyMessage(`${h}.${p}.${sig.toString('base64url')}`, signer.publicKey), 'bad_signature');
  });

  it('rejects a signature by another key', async () => {
    const jws = await signMessage(payload, other.privateKey, kid);
    await expectCode(verifyMessage(jws, signer.publicKey), 'bad_signature');
  });

  it('rejects a request-auth JWS presented as a message (typ confusion)', async () => {
    const header = await signRequest({ method: 'GET', pathAndQuery: '/v1/tasks' }, { privateKey: signer.privateKey, kid, proxyId: 'proxy1.broker' });
    await expectCode(verifyMessage(header.split(' ')[1], signer.publicKey), 'bad_signature');
  });

  it('rejects alg none / HS256 headers', async () => {
    const [, p, s] = (await signMessage(payload, signer.privateKey, kid)).split('.');
    for (const alg of ['none', 'HS256', 'RS256']) {
      const h = b64urlJson({ alg, kid, typ: MESSAGE_JWS_TYP });
      await expectCode(verifyMessage(`${h}.${p}.${s}`, signer.publicKey), 'bad_signature');
    }
  });

  it('reports non-JWS input as malformed', async () => {
    for (const bad of ['', 'abc', 'a.b', 'a.b.c.d', 'a b.c.d']) {
      expect(() => readJwsKid(bad)).toThrow(expect.objectContaining({ code: 'malformed' }));
      await expectCode(verifyMessage(bad, signer.publicKey), 'malformed');
    }
    expect(() => readJwsKid(`${b64urlJson({ alg: 'PS256' })}.e30.c2ln`)).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});
