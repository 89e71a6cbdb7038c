import { CryptoError } from './errors';
import { sha256Base64Url } from './digest';
import { REQUEST_AUTH_SCHEME, REQUEST_JWS_TYP, RequestToSign, readRequestAuth, signRequest, verifyRequest } from './request-auth';
import { signMessage } from './jws';
import { signCompactJws } from './jws-core';
import { testKeys } from './test-keys';

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toBeInstanceOf(CryptoError);
  await expect(p).rejects.toMatchObject({ code });
}

const MIN = 60_000;

describe('request authentication', () => {
  const [proxy, other] = testKeys(2);
  const signer = { privateKey: proxy.privateKey, kid: '1a2b3c4d5e6f708192a3b4c5d6e7f800', proxyId: 'proxy1.broker.example' };
  const now = 1_700_000_000_000;
  const opts = { now, maxSkewMs: 5 * MIN };
  const req: RequestToSign = { method: 'post', pathAndQuery: '/v1/tasks?wait_count=1&wait_time=10s', body: '{"id":"t1"}' };

  it('signs a BeamlineSig header that verifies and returns proxyId, kid, timestamp and nonce', async () => {
    const header = await signRequest(req, signer, now);
    expect(header.startsWith(`${REQUEST_AUTH_SCHEME} `)).toBe(true);
    expect(readRequestAuth(header)).toEqual({ kid: signer.kid, jws: header.slice(REQUEST_AUTH_SCHEME.length + 1) });
    const v = await verifyRequest(header, { ...req, method: 'POST', body: Buffer.from(req.body as string) }, proxy.publicKey, opts);
    expect(v).toEqual({ proxyId: signer.proxyId, kid: signer.kid, timestamp: now, nonce: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
  });

  it('binds the payload fields iss, m (upper), p, d, t, n', async () => {
    const header = await signRequest(req, signer, now);
    const claims = JSON.parse(Buffer.from(header.split(' ')[1].split('.')[1], 'base64url').toString());
    expect(claims).toEqual({ iss: signer.proxyId, m: 'POST', p: req.pathAndQuery, d: sha256Base64Url(req.body as string), t: now, n: expect.any(String) });
  });

  it('uses a fresh nonce per request', async () => {
    const v1 = await verifyRequest(await signRequest(req, signer, now), req, proxy.publicKey, opts);
    const v2 = await verifyRequest(await signRequest(req, signer, now), req, proxy.publicKey, opts);
    expect(v1.nonce).not.toBe(v2.nonce);
  });

  it('treats a missing body as the digest of the empty string', async () => {
    const header = await signRequest({ method: 'GET', pathAndQuery: '/v1/tasks' }, signer, now);
    await expect(verifyRequest(header, { method: 'GET', pathAndQuery: '/v1/tasks', body: '' }, proxy.publicKey, opts)).resolves.toBeDefined();
    await expect(verifyRequest(header, { method: 'GET', pathAndQuery: '/v1/tasks', body: new Uint8Array(0) }, proxy.publicKey, opts)).resolves.toBeDefined();
  });

  it('rejects a different method as request_mismatch', async () => {
    await expectCode(verifyRequest(await signRequest(req, signer, now), { ...req, method: 'PUT' }, proxy.publicKey, opts), 'request_mismatch');
  });

  it('rejects a different path as request_mismatch', async () => {
    await expectCode(
      verifyRequest(await signRequest(req, signer, now), { ...req, pathAndQuery: '/v1/results?wait_count=1&wait_time=10s' }, proxy.publicKey, opts),
      'request_mismatch',
    );
  });

  it('rejects a different or reordered query as request_mismatch', async () => {
    const header = await signRequest(req, signer, now);
    await expectCode(verifyRequest(header, { ...req, pathAndQuery: '/v1/tasks?wait_count=2&wait_time=10s' }, proxy.publicKey, opts), 'request_mismatch');
    await expectCode(verifyRequest(header, { ...req, pathAndQuery: '/v1/tasks?wait_time=10s&wait_count=1' }, proxy.publicKey, opts), 'request_mismatch');
    await expectCode(verifyRequest(header, { ...req, pathAndQuery: '/v1/tasks' }, proxy.publicKey, opts), 'request_mismatch');
  });

  it('rejects a different body as digest_mismatch', async () => {
    const header = await signRequest(req, signer, now);
    await expectCode(verifyRequest(header, { ...req, body: '{"id":"t2"}' }, proxy.publicKey, opts), 'digest_mismatch');
    await expectCode(verifyRequest(header, { ...req, body: undefined }, proxy.publicKey, opts), 'digest_mismatch');
  });

  it('accepts a timestamp 4 min off either way and rejects 6 min off as stale_request (maxSkewMs 5 min)', async () => {
    for (const off of [4 * MIN, -4 * MIN]) {
      await expect(verifyRequest(await signRequest(req, signer, now + off), req, proxy.publicKey, opts)).resolves.toMatchObject({ timestamp: now + off });
    }
    for (const off of [6 * MIN, -6 * MIN]) {
      await expectCode(verifyRequest(await signRequest(req, signer, now + off), req, proxy.publicKey, opts), 'stale_request');
    }
  });

  it('rejects a signature by another key and a tampered payload as bad_signature', async () => {
    await expectCode(verifyRequest(await signRequest(req, signer, now), req, other.publicKey, opts), 'bad_signature');
    const [scheme, jws] = (await signRequest(req, signer, now)).split(' ');
    const [h, p, s] = jws.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = Buffer.from(JSON.stringify({ ...claims, m: 'DELETE' })).toString('base64url');
    await expectCode(verifyRequest(`${scheme} ${h}.${forged}.${s}`, { ...req, method: 'DELETE' }, proxy.publicKey, opts), 'bad_signature');
  });

  it('rejects a message JWS presented as request auth (typ confusion)', async () => {
    const jws = await signMessage({ m: 'POST' }, signer.privateKey, signer.kid);
    await expectCode(verifyRequest(`BeamlineSig ${jws}`, req, proxy.publicKey, opts), 'bad_signature');
  });

  it('reports a missing header, another scheme or garbage as malformed', async () => {
    const jws = (await signRequest(req, signer, now)).split(' ')[1];
    for (const h of [undefined, '', 'Bearer abc', `ApiKey ${jws}`, 'BeamlineSig', 'BeamlineSig not-a-jws']) {
      expect(() => readRequestAuth(h)).toThrow(expect.objectContaining({ code: 'malformed' }));
    }
    await expectCode(verifyRequest(`Bearer ${jws}`, req, proxy.publicKey, opts), 'malformed');
    expect(readRequestAuth(`beamlinesig ${jws}`).kid).toBe(signer.kid);
  });

  /** A request signed like signRequest's, with the claims and kid we choose. */
  async function signedClaims(claims: Record<string, unknown>, kid = signer.kid): Promise<string> {
    const full = { iss: signer.proxyId, m: 'POST', p: req.pathAndQuery, d: sha256Base64Url(req.body as string), t: now, n: 'A'.repeat(22), ...claims };
    return `${REQUEST_AUTH_SCHEME} ${await signCompactJws(JSON.stringify(full), signer.privateKey, kid, REQUEST_JWS_TYP)}`;
  }

  it('takes nonces of 22 to 64 base64url characters and refuses longer or other ones as malformed, even when signed', async () => {
    await expect(verifyRequest(await signedClaims({ n: 'A'.repeat(64) }), req, proxy.publicKey, opts)).resolves.toMatchObject({ nonce: 'A'.repeat(64) });
    for (const n of ['A'.repeat(65), 'n'.repeat(6_000), 'A'.repeat(21), `${'A'.repeat(22)}.x`, 'A'.repeat(21) + '=']) {
      await expectCode(verifyRequest(await signedClaims({ n }), req, proxy.publicKey, opts), 'malformed');
    }
  });

  it('refuses a kid longer than a certificate serial can be as malformed', async () => {
    expect(() =>
      readRequestAuth(`BeamlineSig ${Buffer.from(JSON.stringify({ alg: 'PS256', kid: 'a'.repeat(129), typ: REQUEST_JWS_TYP })).toString('base64url')}.e30.sig`),
    ).toThrow(expect.objectContaining({ code: 'malformed' }));
  });
});
