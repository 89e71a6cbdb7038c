/**
 * Attacks on request authentication and message signatures, against a real network with two broker-api
 * replicas sharing one NATS: replays, stale and future timestamps, sessions, impersonation.
 */
import { join } from 'node:path';
import { macRequest, signMessage, unwrapSessionKey, type RequestToSign } from '@beamline/crypto';
import { startHttpService, type ServiceHandle } from '@beamline/devnet';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, sendRaw, signed, type ProxySigner } from './support/proxy-signer';
import { sealedTask } from './support/sealed-messages';

let t: TestNetwork;
let replicaB: ServiceHandle;
let replicaBUrl: string;
let proxy1: ProxySigner;

beforeAll(async () => {
  t = await startTestNetwork();
  proxy1 = proxySigner(t.net, 0);
  const started = await startHttpService({
    name: 'broker-api-b',
    script: join(__dirname, '..', 'dist', 'apps', 'broker-api', 'src', 'main.js'),
    env: { NATS_URL: t.net.natsUrl, BROKER_ID: 'broker', ROOTCERT_FILE: t.net.pki.rootCertFile, SESSION_SECRET: t.net.sessionSecret, LOG_LEVEL: 'warn' },
    healthPath: '/v1/health',
  });
  [replicaB, replicaBUrl] = [started, started.url];
}, 120_000);

afterAll(async () => {
  await replicaB?.stop();
  await t?.net.stop();
});

const todoQuery = (): RequestToSign => ({ method: 'GET', pathAndQuery: `/v1/tasks?filter=todo&beam_app=${APP1}` });

describe('replay protection', () => {
  it('rejects a captured valid request replayed byte for byte, on the same replica and on another', async () => {
    const captured = await signed(proxy1, todoQuery());
    expect((await sendRaw(t.net.brokerUrl, captured)).status).toBe(200);
    const replay = await sendRaw(t.net.brokerUrl, captured);
    expect(replay.status).toBe(401);
    expect(replay.json).toMatchObject({ error: 'replayed' });
    expect((await sendRaw(replicaBUrl, captured)).json).toMatchObject({ error: 'replayed' });

    const fresh = await signed(proxy1, todoQuery());
    expect((await sendRaw(replicaBUrl, fresh)).status).toBe(200);
    expect((await sendRaw(t.net.brokerUrl, fresh)).json).toMatchObject({ error: 'replayed' });
  });

  it('rejects a request whose timestamp is 6 minutes off and accepts one 4 minutes off', async () => {
    for (const offset of [-6, 6]) {
      const res = await sendRaw(t.net.brokerUrl, await signed(proxy1, todoQuery(), Date.now() + offset * 60_000));
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: 'stale_request' });
    }
    for (const offset of [-4, 4]) {
      expect((await sendRaw(t.net.brokerUrl, await signed(proxy1, todoQuery(), Date.now() + offset * 60_000))).status).toBe(200);
    }
  });

  it('rejects a request whose path, query or body was changed after signing', async () => {
    const original = await signed(proxy1, todoQuery());
    const otherQuery = { ...original, pathAndQuery: `/v1/tasks?from=${APP1}&beam_app=${APP1}` };
    expect((await sendRaw(t.net.brokerUrl, otherQuery)).status).toBe(401);
  });
});

describe('sessions (reads without a private-key operation per request)', () => {
  async function openSession(): Promise<{ id: string; key: Buffer }> {
    const res = await sendRaw(t.net.brokerUrl, await signed(proxy1, { method: 'POST', pathAndQuery: '/v1/sessions' }));
    expect(res.status).toBe(201);
    const grant = res.json as { session_id: string; wrapped_key: string };
    return { id: grant.session_id, key: unwrapSessionKey(grant.wrapped_key, proxy1.privateKey) };
  }

  it('accepts MAC-authenticated requests on every replica and rejects their replay', async () => {
    const session = await openSession();
    const req = todoQuery();
    const first = { ...req, authorization: macRequest(req, session) };
    expect((await sendRaw(replicaBUrl, first)).status).toBe(200);
    expect((await sendRaw(t.net.brokerUrl, first)).json).toMatchObject({ error: 'replayed' });
    const second = { ...req, authorization: macRequest(req, session) };
    expect((await sendRaw(t.net.brokerUrl, second)).status).toBe(200);
  });

  it('rejects MACs 6 minutes off, under a wrong key, or for a session that cannot be opened with a MAC', async () => {
    const session = await openSession();
    const req = todoQuery();
    expect((await sendRaw(t.net.brokerUrl, { ...req, authorization: macRequest(req, session, Date.now() - 6 * 60_000) })).json).toMatchObject({
      error: 'stale_request',
    });
    expect((await sendRaw(t.net.brokerUrl, { ...req, authorization: macRequest(req, { id: session.id, key: Buffer.alloc(32) }) })).status).toBe(401);
    const viaMac = { method: 'POST', pathAndQuery: '/v1/sessions' };
    expect((await sendRaw(t.net.brokerUrl, { ...viaMac, authorization: macRequest(viaMac, session) })).json).toMatchObject({ error: 'signature_required' });
  });
});

describe('message signatures', () => {
  it('rejects a message signed by proxy1 claiming to come from an app of proxy2 (401)', async () => {
    const proxy2Cert = t.net.pki.proxies[1];
    const { createPublicKey } = await import('node:crypto');
    const recipientKey = createPublicKey(proxy2Cert.certPem);
    const sealed = sealedTask({ from: APP2, to: [APP2], body: 'forged', keys: [recipientKey] });
    const message = await signMessage(sealed, proxy1.privateKey, proxy1.kid);
    const body = JSON.stringify({ message });
    const res = await sendRaw(t.net.brokerUrl, await signed(proxy1, { method: 'POST', pathAndQuery: '/v1/tasks', body }));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'signer_mismatch' });
    expect((await t.app2.get(`/v1/tasks/${sealed.id}`)).status).toBe(404);
  });

  it('rejects a message signed with proxy2 key but sent by proxy1', async () => {
    const proxy2 = proxySigner(t.net, 1);
    const { createPublicKey } = await import('node:crypto');
    const sealed = sealedTask({ from: APP2, to: [APP1], body: 'x', keys: [createPublicKey(t.net.pki.proxies[0].certPem)] });
    const message = await signMessage(sealed, proxy2.privateKey, proxy2.kid);
    const res = await sendRaw(t.net.brokerUrl, await signed(proxy1, { method: 'POST', pathAndQuery: '/v1/tasks', body: JSON.stringify({ message }) }));
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'signer_mismatch' });
  });
});
