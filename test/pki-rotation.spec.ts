/**
 * Trust in the directory held by each proxy itself (issue 13, attacks 1 and 2): an intermediate CA rotated
 * with overlap under live traffic, an old intermediate retired, an old intermediate event re-published by a
 * NATS writer, and a man in the middle that hides a revocation from a proxy that has already seen it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createCsr, generateRsaKeyPair, privateKeyFromPem, privateKeyToPem } from '@beamline/crypto';
import { startHttpService, type HttpServiceHandle } from '@beamline/devnet';
import { connectNats, PKI_STREAM, subjects } from '@beamline/nats';
import { loadCa, publishCertificate, publishRevocation, readPkiJws, signCsr } from '@beamline/pki';
import { AppClient, newResult, newTask } from './support/app-client';
import { startDelayingForwarder, type DelayingForwarder } from './support/delaying-forwarder';
import { runCli } from './support/cli';
import { startTestNetwork, type TestNetwork } from './support/network';

const PROXY = resolve(__dirname, '..', 'dist', 'apps', 'proxy', 'src', 'main.js');
const PROXIES = ['proxy1.broker', 'proxy2.broker', 'proxy3.broker'];

let t: TestNetwork;
let nc: NatsConnection;
let caDir: string;

beforeAll(async () => {
  t = await startTestNetwork({ proxies: PROXIES.map((id) => ({ id })), extraEnv: { proxy: { CERT_REFRESH: '300ms' } } });
  nc = await connectNats(t.net.natsUrl, 'test-pki-rotation');
  caDir = dirname(t.net.pki.rootCertFile);
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await t?.net.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function health(url: string): Promise<{ status: number; certificate: string | null; revoked: number }> {
  const res = await fetch(`${url}/v1/health`);
  const body = (await res.json()) as { certificate: string | null; pki?: { revoked_certificates: number } };
  return { status: res.status, certificate: body.certificate, revoked: body.pki?.revoked_certificates ?? 0 };
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

const app = (proxy: number) => new AppClient(t.net.proxies[proxy].url, `app1.${PROXIES[proxy]}`);

/** One full cycle between two proxies; returns what went wrong, if anything. */
async function cycle(from: number, to: number): Promise<string | undefined> {
  const [sender, worker] = [app(from), app(to)];
  const task = newTask(sender.appId, [worker.appId]);
  const posted = await sender.postTask(task);
  if (posted.status !== 201) return `POST from ${sender.appId}: ${posted.status} ${posted.text}`;
  const put = await worker.putResult(task.id, newResult(task, worker.appId, [sender.appId], { body: 'ok' }));
  if (put.status !== 201) return `PUT by ${worker.appId}: ${put.status} ${put.text}`;
  const got = await sender.get(`/v1/tasks/${task.id}/results?wait_count=1&wait_time=20s`);
  return got.status === 200 && (got.json as { body: string }[])[0]?.body === 'ok' ? undefined : `results: ${got.status} ${got.text}`;
}

/** Re-enrols a proxy with its own key under the CA directory's current intermediate; returns the new serial. */
async function reEnrol(proxy: number): Promise<string> {
  const id = PROXIES[proxy];
  const key = privateKeyFromPem(readFileSync(t.net.pki.proxies[proxy].keyFile, 'utf8'));
  const issued = signCsr(loadCa(caDir), createCsr(id, key), { proxyId: id });
  await publishCertificate(jetstream(nc), loadCa(caDir), issued.certPem);
  await until(`${id} signs with ${issued.serial}`, async () => (await health(t.net.proxies[proxy].url)).certificate === issued.serial);
  return issued.serial;
}

describe('intermediate rotation with three proxies live', () => {
  const oldIntermediate = () => t.net.pki.loadedCa.im.serial;

  it('rotates without a failed request or a proxy leaving health 200, then refuses what the retired intermediate issued', async () => {
    const failures: string[] = [];
    let traffic = true;
    const load = (async () => {
      for (let i = 0; traffic; i++) {
        const problem = await cycle(i % 3, (i + 1) % 3);
        if (problem) failures.push(problem);
        for (const p of t.net.proxies) {
          const h = await health(p.url);
          if (h.status !== 200) failures.push(`${p.id} health ${h.status} (certificate ${h.certificate})`);
        }
      }
    })();
    const rotated = await runCli(['pki', 'intermediate', 'new', '--ca-dir', caDir, '--bits', '2048', '--nats-url', t.net.natsUrl]);
    expect(rotated).toMatchObject({ code: 0, stderr: '' });
    expect(loadCa(caDir).im.serial).not.toBe(oldIntermediate());
    await reEnrol(2);
    await sleep(1_000); // traffic keeps flowing with certificates of both intermediates in use
    traffic = false;
    await load;
    expect(failures).toEqual([]);

    await reEnrol(1);
    const retired = await runCli(['pki', 'intermediate', 'retire', oldIntermediate(), '--ca-dir', caDir, '--nats-url', t.net.natsUrl]);
    expect(retired).toMatchObject({ code: 0, stderr: '' });
    // proxy1 is still enrolled under the retired intermediate only: its own directory now refuses its certificate.
    await until('proxy1 no longer trusts its own certificate', async () => (await health(t.net.proxies[0].url)).status === 503);
    const listing = (await (await fetch(`${t.net.brokerUrl}/v1/pki/certs`)).json()) as { serial: string; status: string }[];
    expect(listing.find((c) => c.serial === t.net.pki.proxies[0].serial)?.status).toBe('untrusted');
    expect(await cycle(1, 2)).toBeUndefined();
    expect((await app(2).postTask(newTask(app(2).appId, [app(0).appId]))).json).toEqual([PROXIES[0]]);

    const listed = await runCli(['pki', 'list', '--intermediates', '--json', '--ca-dir', caDir, '--nats-url', t.net.natsUrl]);
    expect((JSON.parse(listed.stdout) as { serial: string; status: string }[]).map((i) => [i.serial, i.status])).toEqual([
      [oldIntermediate(), 'retired'],
      [loadCa(caDir).im.serial, 'active'],
    ]);
  }, 120_000);

  it('changes nothing when a NATS writer re-publishes the old intermediate event', async () => {
    const jsm = await jetstreamManager(nc);
    const old = await jsm.streams.getMessage(PKI_STREAM, { last_by_subj: subjects.intermediate(oldIntermediate()) });
    expect(readPkiJws(JSON.parse(new TextDecoder().decode(old!.data)).jws as string).event.type).toBe('IntermediatePublished');
    await jetstream(nc).publish(old!.subject, old!.data);
    await jetstream(nc).publish(subjects.intermediatePublished, old!.data); // and where the newest one used to be looked for
    await sleep(1_500);
    expect(await cycle(1, 2)).toBeUndefined();
    expect((await health(t.net.proxies[0].url)).status).toBe(503);
    expect((await (await fetch(`${t.net.brokerUrl}/v1/pki/certs/im-ca`)).text()).replace(/\r\n/g, '\n')).toBe(loadCa(caDir).imCertPem.replace(/\r\n/g, '\n'));
  }, 60_000);
});

describe('a man in the middle that hides a revocation', () => {
  let forwarder: DelayingForwarder;
  let watched: HttpServiceHandle;
  let signer: HttpServiceHandle;

  afterAll(async () => {
    await signer?.stop();
    await watched?.stop();
    await forwarder?.close();
  });

  it('cannot make a proxy show a message signed by a key whose revocation it has seen', async () => {
    const ca = loadCa(caDir);
    const { privateKey } = generateRsaKeyPair(2048);
    const keyFile = join(caDir, 'proxy9.broker.priv.pem');
    writeFileSync(keyFile, privateKeyToPem(privateKey), { mode: 0o600 });
    const issued = signCsr(ca, createCsr('proxy9.broker', privateKey), { proxyId: 'proxy9.broker' });
    await publishCertificate(jetstream(nc), ca, issued.certPem);
    const proxyEnv = (id: string, key: string, brokerUrl: string) => ({
      BROKER_URL: brokerUrl,
      PROXY_ID: id,
      PRIVKEY_FILE: key,
      ROOTCERT_FILE: t.net.pki.rootCertFile,
      APP_app1_KEY: 'App1Secret',
      CERT_REFRESH: '300ms',
      CERT_RESYNC: '1s',
      LOG_LEVEL: 'error',
    });
    signer = await startHttpService({ name: 'proxy9', script: PROXY, env: proxyEnv('proxy9.broker', keyFile, t.net.brokerUrl), healthPath: '/v1/health' });
    forwarder = await startDelayingForwarder(t.net.brokerUrl);
    watched = await startHttpService({
      name: 'proxy3-behind-mitm',
      script: PROXY,
      env: proxyEnv('proxy3.broker', t.net.pki.proxies[2].keyFile, forwarder.url),
      healthPath: '/v1/health',
    });
    const sender = new AppClient(signer.url, 'app1.proxy9.broker');
    const reader = new AppClient(watched.url, 'app1.proxy3.broker');

    // The message from the soon-revoked key is in the log; before the revocation the proxy shows it.
    const task = newTask(sender.appId, [reader.appId]);
    expect((await sender.postTask(task)).status).toBe(201);
    const shown = async () => ((await reader.get('/v1/tasks?filter=todo')).json as { id: string }[]).some((x) => x.id === task.id);
    expect(await shown()).toBe(true);

    await publishRevocation(jetstream(nc), ca, issued.serial, { reason: 'key compromised' });
    const before = (await health(watched.url)).revoked;
    await until('the watched proxy has seen the revocation', async () => (await health(watched.url)).revoked > before);

    // From now on the broker's answers hide the revocation: no revocation event, no revoked flag.
    let hidden = 0;
    forwarder.rewriteJson(
      (_m, path) => path.startsWith('/v1/pki/'),
      (json) => {
        if (Array.isArray(json)) return json.map((c: Record<string, unknown>) => ({ ...c, revoked: false, status: 'valid' }));
        const events = (json as { events: { jws: string }[] }).events.filter((e) => readPkiJws(e.jws).event.type !== 'CertificateRevoked');
        hidden += (json as { events: unknown[] }).events.length - events.length;
        return { events };
      },
    );
    await until('a full re-read of the directory went through the man in the middle', async () => hidden > 0);
    await sleep(500);
    expect(await shown()).toBe(false);
    expect((await reader.get(`/v1/tasks/${task.id}`)).status).not.toBe(200);
  }, 120_000);
});
