/**
 * Issue 13, attack 8c: a NATS that anyone on the network may use as a full operator. The dev network here
 * runs NATS as infra/nats ships it: TLS on the client port (client certificates required) and the users and
 * permissions of infra/nats/auth.conf, read from the repository. broker-api and broker-store log in as their
 * own users; the CA operator's `beamline pki` as `beamline-ca`, which may publish directory events and
 * nothing else.
 */
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { natsClientEnv, natsClientSettings, type DevNatsSecurity, type NatsUser } from '@beamline/devnet';
import { connectOnce, encodeJson, EVENTS_STREAM, inboxPrefixOf, subjects, type NatsConnectionSettings } from '@beamline/nats';
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { proxySigner, sendRaw, signed } from './support/proxy-signer';

const CLI = resolve(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestNetwork;
let sec: DevNatsSecurity;
let work: string;
const open: NatsConnection[] = [];

beforeAll(async () => {
  t = await startTestNetwork({ natsSecurity: true, extraEnv: { 'broker-store': { BLOB_ORPHAN_GRACE: '5s' } } });
  sec = t.net.natsSecurity!;
  work = mkdtempSync(join(tmpdir(), 'nats-security-spec-'));
}, 120_000);

afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => undefined);
  await t?.net.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A connection in this process logged in as `user` (or with the given settings). */
async function connectAs(who: NatsUser | NatsConnectionSettings): Promise<NatsConnection> {
  const nc = await connectOnce(typeof who === 'string' ? natsClientSettings(sec, who, t.net.natsUrl) : who, 'nats-security-spec');
  open.push(nc);
  return nc;
}

/** The built CLI with exactly `env` (plus PATH): nothing inherited from the shell running the tests. */
function beamline(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('the dev network on a NATS with TLS and least-privilege logins', () => {
  it('runs a full task cycle: broker-api and broker-store as their own users', async () => {
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    const todo = await t.app2.get('/v1/tasks?filter=todo');
    expect(todo.json).toEqual([expect.objectContaining({ id: task.id, body: task.body })]);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'claimed', body: undefined }))).status).toBe(201);
    const answer = newResult(task, APP2, [APP1]);
    expect((await t.app2.putResult(task.id, answer)).status).toBe(204);
    const results = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1`);
    expect(results.status).toBe(200);
    expect(results.json).toEqual([expect.objectContaining({ from: APP2, status: 'succeeded', body: answer.body })]);
    // Nothing any component did was refused by the server.
    expect(t.net.nats!.recentLogs()).not.toMatch(/Permissions Violation/);
  });

  it("carries big bodies through the blob store, and deletes them at expiry (and one nothing names), with their users' permissions", async () => {
    // A blob proxy1 stores and never names: the expiry leader lists the store and deletes it after BLOB_ORPHAN_GRACE.
    const stray = 's'.repeat(2 ** 20);
    const digest = createHash('sha256').update(stray).digest('base64url');
    const put = await sendRaw(t.net.brokerUrl, await signed(proxySigner(t.net, 0), { method: 'PUT', pathAndQuery: `/v1/blobs/${digest}`, body: stray }));
    expect(put.status).toBe(201);
    const body = 'b'.repeat(3 * 2 ** 20);
    // Long enough for the round trip on a busy machine; the deletion is then waited for.
    const task = newTask(APP1, [APP2], { body, ttl: '10s' });
    expect((await t.app1.postTask(task)).status).toBe(201);
    const todo = await t.app2.get(`/v1/tasks/${task.id}`);
    expect({ status: todo.status, intact: (todo.json as { body?: string }).body === body }).toEqual({ status: 200, intact: true });
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body }))).status).toBe(201);
    const results = await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1`);
    expect((results.json as Array<{ body?: string }>)[0]?.body === body).toBe(true);
    // The expiry leader deletes the blobs once the task is purged: broker-store's login may do that too.
    const blobBytes = async (): Promise<number> => {
      const health = (await (await fetch(`${t.net.brokerUrl}/v1/health`)).json()) as { storage: Record<string, { used_bytes: number }> };
      return health.storage['OBJ_beam-blobs'].used_bytes;
    };
    // Health reads a gauge polled once a second: first both bodies stored, then none.
    const until = async (check: (bytes: number) => boolean): Promise<number> => {
      const deadline = Date.now() + 45_000;
      let bytes = await blobBytes();
      while (!check(bytes) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        bytes = await blobBytes();
      }
      return bytes;
    };
    expect(await until((bytes) => bytes > 6 * 2 ** 20)).toBeGreaterThan(6 * 2 ** 20);
    expect(await until((bytes) => bytes < 2 ** 20 / 2)).toBeLessThan(2 ** 20 / 2); // the stray's 1 MiB is gone too
    expect(t.net.nats!.recentLogs().match(/.*Permissions Violation.*/g) ?? []).toEqual([]);
    expect(t.net.services.get('broker-store')!.recentLogs()).not.toMatch(/not deleted/);
  }, 120_000);
});

describe('the CA operator (beamline-ca)', () => {
  it('signs and publishes a certificate with beamline pki, which the broker then serves', async () => {
    const caDir = dirname(t.net.pki.rootCertFile);
    const csr = join(work, 'proxy3.csr.pem');
    const enrolled = await beamline(['pki', 'enroll', '--proxy-id', 'proxy3.broker', '--key-file', join(work, 'proxy3.priv.pem'), '--bits', '2048'], {});
    expect(enrolled.code).toBe(0);
    writeFileSync(csr, enrolled.stdout);
    const signed = await beamline(['pki', 'sign', csr, '--proxy-id', 'proxy3.broker', '--ca-dir', caDir, '--out', join(work, 'proxy3.crt.pem')], {
      ...natsClientEnv(sec, 'beamline-ca', t.net.natsUrl),
    });
    expect(signed.stderr).toBe('');
    expect(signed.code).toBe(0);
    expect(signed.stdout).toMatch(/published to BEAM_PKI at nats:\/\/127\.0\.0\.1:\d+ \(certificate #\d+; intermediate already published\)/);
    const serial = /serial\s+([0-9a-f]+)/.exec(signed.stdout)![1];
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await fetch(`${t.net.brokerUrl}/v1/pki/certs/by_serial/${serial}`)).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
    // The read-only audit user lists the directory too.
    const listed = await beamline(['pki', 'list', '--root-cert', t.net.pki.rootCertFile], natsClientEnv(sec, 'beamline-audit', t.net.natsUrl));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('proxy3.broker');
  });

  it('cannot publish to BEAM_EVENTS: the server refuses the publish and nothing is stored', async () => {
    const nc = await connectAs('beamline-ca');
    const before = (await jetstreamManager(await connectAs('broker-store'))).streams.info(EVENTS_STREAM);
    const messagesBefore = (await before).state.messages;
    const forged = encodeJson({ type: 'TaskCreated', v: 1, taskId: 'forged', from: APP1, to: [APP2] });
    const refusal = await jetstream(nc, { timeout: 3_000 })
      .publish(subjects.taskCreated('0f0f0f0f-0000-4000-8000-000000000000'), forged)
      .then(
        () => 'stored',
        (err: Error) => err.message,
      );
    expect(refusal).toMatch(/Permissions Violation for Publish to "beam\.ev\.task\.0f0f0f0f-0000-4000-8000-000000000000\.created"/);
    const after = await (await jetstreamManager(await connectAs('broker-store'))).streams.info(EVENTS_STREAM);
    expect(after.state.messages).toBe(messagesBefore);
  });

  it('cannot read or change what is not BEAM_PKI: the event log, the nonces, stream deletion', async () => {
    const nc = await connectAs('beamline-ca');
    const jsm = await jetstreamManager(nc, { timeout: 3_000 });
    await expect(jsm.streams.info(EVENTS_STREAM)).rejects.toThrow(/Permissions Violation|timeout/i);
    await expect(jsm.streams.delete('BEAM_PKI')).rejects.toThrow(/Permissions Violation|timeout/i);
    await expect((await new Kvm(nc).open('beam-nonces')).get('x')).rejects.toThrow(/Permissions Violation|timeout/i);
  });

  it("cannot read the replies meant for another user: subscriptions to all inboxes or broker-api's are refused", async () => {
    const nc = await connectAs('beamline-ca');
    const seen: string[] = [];
    const everyInbox = nc.subscribe('_INBOX.>', { callback: (_err, m) => void (m && seen.push(m.subject)) });
    const brokerInbox = nc.subscribe(`${inboxPrefixOf('broker-api')}.>`, { callback: (_err, m) => void (m && seen.push(m.subject)) });
    // broker-api asks JetStream and broker-store for this cycle; their answers go to broker-api's inbox.
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app2.get('/v1/tasks?filter=todo')).status).toBe(200);
    const outcome = (sub: { closed: Promise<void | Error> }) => Promise.race([sub.closed.then(String), sleep(3_000).then(() => 'still open')]);
    expect(await outcome(everyInbox)).toMatch(/Permissions Violation for Subscription to "_INBOX\.>"/);
    expect(await outcome(brokerInbox)).toMatch(/Permissions Violation for Subscription/);
    expect(seen).toEqual([]);
  });

  it('the read-only audit user replays and verifies the audit trail', async () => {
    expect((await t.app1.postTask(newTask(APP1, [APP2]))).status).toBe(201);
    const env = natsClientEnv(sec, 'beamline-audit', t.net.natsUrl);
    let replay = { code: -1, stdout: '', stderr: '' };
    for (let i = 0; i < 30 && !replay.stdout.includes('TaskCreated'); i++) {
      replay = await beamline(['audit', 'replay', '--json'], env); // the copy follows the log within moments
      if (!replay.stdout.includes('TaskCreated')) await new Promise((r) => setTimeout(r, 200));
    }
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('TaskCreated');
    const verify = await beamline(['audit', 'verify', '--root-cert', t.net.pki.rootCertFile], env);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });

  it('the audit user publishes nothing, not even directory events', async () => {
    const nc = await connectAs('beamline-audit');
    const refusal = await jetstream(nc, { timeout: 3_000 })
      .publish(subjects.certificateRevoked('00'), encodeJson({ jws: 'x' }))
      .then(
        () => 'stored',
        (err: Error) => err.message,
      );
    expect(refusal).toMatch(/Permissions Violation for Publish to "beam\.pki\.revoked\.00"/);
  });
});

describe('clients without credentials', () => {
  const settings = (user: NatsUser): NatsConnectionSettings => natsClientSettings(sec, user, t.net.natsUrl);

  it('a client with a valid TLS client certificate but no login is refused', async () => {
    const { login: _login, ...noLogin } = settings('broker-api');
    await expect(connectAs(noLogin)).rejects.toThrow(/Authorization Violation/i);
  });

  it('a wrong password is refused', async () => {
    await expect(connectAs({ ...settings('broker-api'), login: { user: 'broker-api', password: sec.passwords['broker-store'] } })).rejects.toThrow(
      /Authorization Violation/i,
    );
  });

  it('a client without TLS, or without a client certificate, does not get in', async () => {
    const { tls: _tls, ...plain } = settings('broker-api');
    await expect(connectAs(plain)).rejects.toThrow(/cannot connect to NATS/);
    const { tls, ...rest } = settings('broker-api');
    await expect(connectAs({ ...rest, tls: { ca: tls!.ca } })).rejects.toThrow(/cannot connect to NATS/);
  });

  it('beamline pki without a login fails at once, saying it cannot connect', async () => {
    const out = await beamline(['pki', 'list'], { NATS_URL: t.net.natsUrl, NATS_TLS_CA: sec.tls.caCertFile });
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: .*/);
  });
});
