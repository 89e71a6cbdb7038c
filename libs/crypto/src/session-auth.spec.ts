import { generateRsaKeyPair } from './keys';
import { CryptoError } from './errors';
import { isSessionAuth, macRequest, newSessionId, readSessionId, sessionKeyFor, unwrapSessionKey, verifyMacRequest, wrapSessionKey } from './session-auth';

const secret = Buffer.alloc(32, 7);
const claims = { proxyId: 'proxy1.broker', serial: 'ab12', expiresAt: 1_900_000_000_000 };
const req = { method: 'GET', pathAndQuery: '/v1/tasks?filter=todo&beam_app=app1.proxy1.broker', body: '' };
const now = 1_800_000_000_000;
const opts = { now, maxSkewMs: 300_000 };

function session() {
  const id = newSessionId(claims);
  return { id, key: sessionKeyFor(secret, id) };
}

describe('session request authentication', () => {
  it('carries its claims in the session id', () => {
    expect(readSessionId(session().id)).toEqual(claims);
  });

  it('derives the same key on every replica sharing the secret, and another key under another secret', () => {
    const s = session();
    expect(sessionKeyFor(secret, s.id).equals(s.key)).toBe(true);
    expect(sessionKeyFor(Buffer.alloc(32, 8), s.id).equals(s.key)).toBe(false);
  });

  it('wraps the session key so only the proxy key opens it', () => {
    const proxy = generateRsaKeyPair(2048);
    const other = generateRsaKeyPair(2048);
    const s = session();
    const wrapped = wrapSessionKey(s.key, proxy.publicKey);
    expect(unwrapSessionKey(wrapped, proxy.privateKey).equals(s.key)).toBe(true);
    expect(() => unwrapSessionKey(wrapped, other.privateKey)).toThrow(CryptoError);
  });

  it('accepts a request MAC made with the session key', () => {
    const s = session();
    const header = macRequest(req, s, now);
    expect(isSessionAuth(header)).toBe(true);
    expect(verifyMacRequest(header, req, s.key, opts).sessionId).toBe(s.id);
  });

  it.each([
    ['method', { ...req, method: 'DELETE' }],
    ['path', { ...req, pathAndQuery: '/v1/tasks?filter=todo&beam_app=app2.proxy1.broker' }],
    ['body', { ...req, body: '{}' }],
  ])('rejects a request whose %s differs from what was MACed', (_what, other) => {
    const s = session();
    expect(() => verifyMacRequest(macRequest(req, s, now), other, s.key, opts)).toThrow(expect.objectContaining({ code: 'bad_signature' }));
  });

  it('rejects a MAC under another session key, and a forged session id', () => {
    const s = session();
    const header = macRequest(req, s, now);
    expect(() => verifyMacRequest(header, req, session().key, opts)).toThrow(expect.objectContaining({ code: 'bad_signature' }));
    const forgedId = newSessionId({ ...claims, expiresAt: claims.expiresAt + 1 });
    const forged = header.replace(s.id, forgedId);
    expect(() => verifyMacRequest(forged, req, sessionKeyFor(secret, forgedId), opts)).toThrow(expect.objectContaining({ code: 'bad_signature' }));
  });

  it('rejects a request 6 minutes off and accepts one 4 minutes off', () => {
    const s = session();
    expect(() => verifyMacRequest(macRequest(req, s, now - 6 * 60_000), req, s.key, opts)).toThrow(expect.objectContaining({ code: 'stale_request' }));
    expect(verifyMacRequest(macRequest(req, s, now + 4 * 60_000), req, s.key, opts).timestamp).toBe(now + 4 * 60_000);
  });

  it('rejects malformed headers as malformed', () => {
    for (const h of [undefined, '', 'BeamlineMac', 'BeamlineMac a.b.c.d', 'BeamlineSig x.y.z']) {
      expect(() => verifyMacRequest(h as string, req, Buffer.alloc(32), opts)).toThrow(expect.objectContaining({ code: 'malformed' }));
    }
  });
});
