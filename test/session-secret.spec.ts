/**
 * Issue 13, attack 5: the session secret must not be readable in NATS. Whoever holds it derives the session
 * key of any session id and so authenticates requests as any enrolled proxy without its private key. Before,
 * a broker-api without SESSION_SECRET made one and kept it in KV `beam-broker-secrets`, for anyone who could
 * read NATS. Now broker-api refuses to start without one, and nothing secret is kept in any bucket.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats } from '@beamline/nats';
import { newResult, newTask } from './support/app-client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';

const BROKER_API = join(__dirname, '..', 'dist', 'apps', 'broker-api', 'src', 'main.js');

describe('broker-api without a session secret', () => {
  const dir = mkdtempSync(join(tmpdir(), 'session-secret-spec-'));
  const rootCert = join(dir, 'root.crt.pem');
  writeFileSync(rootCert, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The built broker-api with exactly `env` (plus PATH): nothing inherited from the shell running the tests. */
  function runBrokerApi(env: Record<string, string>): { status: number | null; stderr: string } {
    const run = spawnSync(process.execPath, [BROKER_API], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
    return { status: run.status, stderr: run.stderr };
  }

  it('exits 2 before connecting anywhere, naming SESSION_SECRET and SESSION_SECRET_FILE', () => {
    // A NATS that does not exist: the refusal comes first, from the configuration.
    const run = runBrokerApi({ NATS_URL: 'nats://127.0.0.1:1', ROOTCERT_FILE: rootCert, BROKER_ID: 'broker' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^broker-api: bad configuration:\n {2}SESSION_SECRET: required \(or SESSION_SECRET_FILE\)/);
  });

  it('exits 2 for a secret that is too short or a placeholder, naming the variable and not echoing the value', () => {
    const short = runBrokerApi({ ROOTCERT_FILE: rootCert, SESSION_SECRET: 'deadbeef' });
    expect(short.status).toBe(2);
    expect(short.stderr).toContain('SESSION_SECRET: expected at least 32 bytes');
    expect(short.stderr).not.toContain('deadbeef');
    const file = join(dir, 'secret');
    writeFileSync(file, '0'.repeat(64));
    const placeholder = runBrokerApi({ ROOTCERT_FILE: rootCert, SESSION_SECRET_FILE: file });
    expect(placeholder.status).toBe(2);
    expect(placeholder.stderr).toContain('SESSION_SECRET_FILE: does not look random');
  });
});

describe('a running network keeps no secret in NATS', () => {
  let t: TestNetwork;
  let nc: NatsConnection;

  beforeAll(async () => {
    t = await startTestNetwork();
    nc = await connectNats(t.net.natsUrl, 'session-secret-spec');
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await t?.net.stop();
  });

  /** Every message of every stream (KV buckets are streams `KV_<bucket>`), data and headers, as a reader of NATS sees them. */
  async function everything(): Promise<{ streams: string[]; messages: { stream: string; subject: string; bytes: Buffer }[] }> {
    const jsm = await jetstreamManager(nc);
    const streams: string[] = [];
    const messages: { stream: string; subject: string; bytes: Buffer }[] = [];
    for await (const info of jsm.streams.list()) {
      streams.push(info.config.name);
      for (let seq = info.state.first_seq; info.state.messages > 0 && seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage(info.config.name, { seq }).catch(() => null);
        if (!m) continue;
        const headers = m.header ? [...m.header.keys()].map((k) => `${k}: ${m.header!.values(k).join(',')}`).join('\n') : '';
        messages.push({ stream: info.config.name, subject: m.subject, bytes: Buffer.concat([Buffer.from(m.data), Buffer.from(headers)]) });
      }
    }
    return { streams, messages };
  }

  it('after a full task cycle, no bucket is a secret store and no stored value holds the session secret in any encoding', async () => {
    // A full cycle: sessions opened by both proxies, a task, a claim, a result, the result read back.
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    expect((await t.app2.get('/v1/tasks?filter=todo')).json).toEqual([expect.objectContaining({ id: task.id })]);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { status: 'claimed', body: undefined }))).status).toBe(201);
    expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1]))).status).toBe(204);
    expect((await t.app1.get(`/v1/tasks/${task.id}/results?wait_count=1`)).status).toBe(200);

    const { streams, messages } = await everything();
    expect(streams.filter((s) => s.startsWith('KV_')).sort()).toEqual(['KV_beam-leases', 'KV_beam-nonces', 'KV_beam-presence', 'KV_beam-proxies']);
    expect(streams.filter((s) => /secret|session|key/i.test(s))).toEqual([]);
    expect(messages.length).toBeGreaterThan(10); // the scan saw the cycle's events, nonces, presence and leases

    const secret = Buffer.from(t.net.sessionSecret, 'hex');
    const forms = [secret, Buffer.from(t.net.sessionSecret), Buffer.from(secret.toString('base64')), Buffer.from(secret.toString('base64url'))];
    // Any 16-byte window of the secret, raw: a secret split or wrapped in some envelope is still found.
    const windows = Array.from({ length: secret.length - 15 }, (_, i) => secret.subarray(i, i + 16));
    const leaks = messages.filter((m) => [...forms, ...windows].some((form) => m.bytes.includes(form)));
    expect(leaks.map((m) => `${m.stream} ${m.subject}`)).toEqual([]);
  });

  it('broker-api deletes the secrets bucket an older version left behind', async () => {
    const legacy = await new Kvm(nc).create('beam-broker-secrets', { history: 1 });
    await legacy.put('session-secret', Buffer.from(t.net.sessionSecret, 'hex'));
    await t.net.services.get('broker-api')!.restart();
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    expect(names).not.toContain('KV_beam-broker-secrets');
    expect(t.net.services.get('broker-api')!.recentLogs()).toContain('deleted KV beam-broker-secrets');
    // And the network still works on the configured secret.
    expect((await t.app1.postTask(newTask(APP1, [APP2]))).status).toBe(201);
  });
});
