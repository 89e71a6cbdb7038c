/**
 * Certificate lifecycle against a real network: renewal without restart, revocation taking effect, and
 * certificates that do not chain to the pinned root, have expired, or carry the wrong name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { jetstream } from '@nats-io/jetstream';
import { createCsr, generateRsaKeyPair, issueCertificate, parseCertificate, signMessage } from '@beamline/crypto';
import { connectNats } from '@beamline/nats';
import { initCa, publishCertificate, publishIntermediate, publishRevocation, signCsr, type LoadedCa } from '@beamline/pki';
import type { NatsConnection } from '@nats-io/nats-core';
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, sendRaw, signed, type ProxySigner } from './support/proxy-signer';
import { sealedTask } from './support/sealed-messages';

const run = promisify(execFile);
let t: TestNetwork;
let nc: NatsConnection;
let ca: LoadedCa;
const scratch = mkdtempSync(join(tmpdir(), 'beamline-certs-'));

beforeAll(async () => {
  t = await startTestNetwork({ extraEnv: { proxy: { CERT_REFRESH: '500ms' } } });
  nc = await connectNats(t.net.natsUrl, 'test-certificates');
  ca = t.net.pki.loadedCa;
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await t?.net.stop();
  rmSync(scratch, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > deadline) return v;
    await sleep(100);
  }
}

async function proxyCertificate(url: string): Promise<string | null> {
  return ((await (await fetch(`${url}/v1/health`)).json()) as { certificate: string | null }).certificate;
}

/** A valid certificate from the real CA for a new proxy id, published to the directory. */
async function enrolled(proxyId: string): Promise<ProxySigner> {
  const { privateKey } = generateRsaKeyPair(2048);
  const issued = signCsr(ca, createCsr(proxyId, privateKey), { proxyId, validityDays: 30 });
  await publishCertificate(jetstream(nc), ca, issued.certPem);
  await until(
    async () => (await fetch(`${t.net.brokerUrl}/v1/pki/certs/by_serial/${issued.serial}`)).status,
    (s) => s === 200,
    5_000,
  );
  return { privateKey, kid: issued.serial, proxyId };
}

async function cycleWorks(): Promise<void> {
  const task = newTask(APP1, [APP2]);
  expect((await t.app1.postTask(task)).status).toBe(201);
  expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'ok' }))).status).toBe(201);
  expect(((await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=5s`)).json as Array<{ body: string }>)[0].body).toBe('ok');
}

describe('renewal', () => {
  it('picks up a renewed certificate of its own without a restart, and keeps working when the old one is revoked', async () => {
    const proxy1 = proxySigner(t.net, 0);
    // Renewal with the same site key (a new CSR from PRIVKEY_FILE); the new certificate starts later.
    const later = signCsr(ca, createCsr(proxy1.proxyId, proxy1.privateKey), { proxyId: proxy1.proxyId, validityDays: 60 });
    expect(later.serial).not.toBe(proxy1.kid);
    await publishCertificate(jetstream(nc), ca, later.certPem);
    expect(
      await until(
        () => proxyCertificate(t.app1.proxyUrl),
        (s) => s === later.serial,
        10_000,
      ),
    ).toBe(later.serial);
    await cycleWorks();

    await publishRevocation(jetstream(nc), ca, proxy1.kid, { reason: 'superseded' });
    await sleep(1_000);
    await cycleWorks();
  });
});

describe('certificates that must not be trusted', () => {
  it('ignores a certificate from another CA, and refuses requests signed with its key', async () => {
    const rogue = initCa(join(scratch, 'rogue-ca'), { bits: 2048 });
    const { privateKey } = generateRsaKeyPair(2048);
    const issued = signCsr(rogue, createCsr('proxy1.broker', privateKey), { proxyId: 'proxy1.broker' });
    await publishIntermediate(jetstream(nc), rogue);
    await publishCertificate(jetstream(nc), rogue, issued.certPem);
    await sleep(500);
    expect((await fetch(`${t.net.brokerUrl}/v1/pki/certs/by_serial/${issued.serial}`)).status).toBe(404);
    const res = await sendRaw(
      t.net.brokerUrl,
      await signed({ privateKey, kid: issued.serial, proxyId: 'proxy1.broker' }, { method: 'GET', pathAndQuery: `/v1/tasks?filter=todo&beam_app=${APP1}` }),
    );
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'unknown_certificate' });
    await cycleWorks(); // the real CA's intermediate is still the one that counts
  });

  it('refuses requests signed with an expired certificate', async () => {
    const { privateKey } = generateRsaKeyPair(2048);
    const pem = issueCertificate(createCsr('proxy7.broker', privateKey), ca, { validityDays: 1, notBefore: new Date(Date.now() - 3 * 86_400_000) });
    const serial = parseCertificate(pem).serial;
    await publishCertificate(jetstream(nc), ca, pem);
    await until(
      async () => (await fetch(`${t.net.brokerUrl}/v1/pki/certs/by_serial/${serial}`)).status,
      (s) => s === 200,
      5_000,
    );
    const res = await sendRaw(
      t.net.brokerUrl,
      await signed({ privateKey, kid: serial, proxyId: 'proxy7.broker' }, { method: 'GET', pathAndQuery: '/v1/tasks?filter=todo&beam_app=app1.proxy7.broker' }),
    );
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ error: 'expired' });
    // And nobody can send to it: it has no valid certificate.
    expect((await t.app1.postTask(newTask(APP1, ['app1.proxy7.broker']))).json).toEqual(['proxy7.broker']);
  });

  it('refuses a certificate used under another name, and respects label boundaries (ulm.broker cannot sign for neu-ulm.broker)', async () => {
    const ulm = await enrolled('ulm.broker');
    await enrolled('neu-ulm.broker');
    const asOther = await signed({ ...ulm, proxyId: 'proxy1.broker' }, { method: 'GET', pathAndQuery: `/v1/tasks?filter=todo&beam_app=${APP1}` });
    expect((await sendRaw(t.net.brokerUrl, asOther)).status).toBe(401);

    const recipient = parseCertificate(t.net.pki.proxies[1].certPem).publicKey;
    const post = async (from: string) => {
      const sealed = sealedTask({ from, to: [APP2], body: 'x', keys: [recipient] });
      const body = JSON.stringify({ message: await signMessage(sealed, ulm.privateKey, ulm.kid) });
      return sendRaw(t.net.brokerUrl, await signed(ulm, { method: 'POST', pathAndQuery: '/v1/tasks', body }));
    };
    const impostor = await post('app.neu-ulm.broker');
    expect(impostor.status).toBe(401);
    expect(impostor.json).toMatchObject({ error: 'signer_mismatch' });
    expect((await post('app.ulm.broker')).status).toBe(201);
  });
});

describe('revocation', () => {
  it('rejects a revoked proxy within 60 s: its requests are refused and messages to it answer 424', async () => {
    const proxy2 = t.net.pki.proxies[1];
    const revoked = await run(process.execPath, [
      join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js'),
      'pki',
      'revoke',
      proxy2.serial,
      '--ca-dir',
      ca.dir,
      '--nats-url',
      t.net.natsUrl,
      '--reason',
      'key compromise',
    ]);
    expect(revoked.stdout + revoked.stderr).toContain(proxy2.serial);
    const started = Date.now();

    const toRevoked = await until(
      () => t.app1.postTask(newTask(APP1, [APP2])),
      (r) => r.status === 424,
      60_000,
    );
    expect(toRevoked.status).toBe(424);
    expect(toRevoked.json).toEqual(['proxy2.broker']);

    const fromRevoked = await until(
      () => t.app2.get('/v1/tasks?filter=todo'),
      (r) => r.status >= 500,
      60_000,
    );
    expect(fromRevoked.status).toBe(502);
    // Refused by the broker, or — once proxy2 re-read the directory itself — by proxy2 for want of a valid certificate.
    expect(['revoked_certificate', 'no_certificate']).toContain((fromRevoked.json as { error: string }).error);
    const direct = await sendRaw(
      t.net.brokerUrl,
      await signed(proxySigner(t.net, 1), { method: 'GET', pathAndQuery: `/v1/tasks?filter=todo&beam_app=${APP2}` }),
    );
    expect(direct.json).toMatchObject({ error: 'revoked_certificate' });
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 130_000);
});
