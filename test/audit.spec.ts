/**
 * The audit trail (BEAM_AUDIT), against a real network, through the built CLI run as a user would:
 * `beamline audit replay` lists every event with sizes and never a body, also after expiry purged the live
 * log; `beamline audit verify` passes an honest log and names every event altered in the audit stream; and
 * the expiry sweeper purges BEAM_EVENTS only once BEAM_AUDIT holds a copy.
 */
import { execFile } from 'node:child_process';
import { randomUUID, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { auditCopyState } from '@beamline/audit';
import { signMessage } from '@beamline/crypto';
import { AUDIT_STREAM, auditStreamConfig, DEFAULT_STREAM_OPTIONS, decodeJson, EVENTS_STREAM, subjects } from '@beamline/nats';
import { newResult, newTask, type TestTask } from './support/app-client';
import { APP1, APP2, dumpLogs, startTestNetwork, type TestNetwork } from './support/network';
import { StreamAccess, tamperJws } from './support/stream-access';
import { CLI, runAudit } from './support/cli';

const APP2P1 = 'app2.proxy1.broker';

let t: TestNetwork;
let log: StreamAccess;
let jsm: JetStreamManager;

beforeAll(async () => {
  t = await startTestNetwork();
  log = await StreamAccess.open(t.net.natsUrl);
  jsm = await jetstreamManager(log.nc);
}, 120_000);

afterAll(async () => {
  await log?.close();
  await t?.net.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const audit = runAudit;

const withNats = (args: string[]) => [...args, '--nats-url', t.net.natsUrl];
const verifyArgs = (extra: string[] = []) => withNats(['verify', '--root-cert', t.net.pki.rootCertFile, ...extra]);

async function replayJson(extra: string[] = []): Promise<Array<Record<string, unknown>>> {
  const run = await audit(withNats(['replay', '--json', ...extra]));
  expect(run.code).toBe(0);
  return run.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** BEAM_EVENTS sequence of the newest message on `subject`. */
async function eventsSeq(subject: string): Promise<number> {
  return (await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject }))!.seq;
}

/** Waits until BEAM_AUDIT holds the BEAM_EVENTS message on `subject` (and so everything before it). */
async function waitAudited(subject: string, timeoutMs = 10_000): Promise<void> {
  const seq = await eventsSeq(subject);
  const deadline = Date.now() + timeoutMs;
  while ((await auditCopyState(jsm, seq)) !== 'copied') {
    if (Date.now() > deadline) throw new Error(`BEAM_AUDIT did not copy ${subject} #${seq}`);
    await sleep(50);
  }
}

async function auditMessagesOf(taskId: string): Promise<Array<{ seq: number; subject: string; event: Record<string, unknown> }>> {
  return (await log.allMessages(AUDIT_STREAM))
    .filter((m) => m.origin.startsWith(`beam.ev.task.${taskId}.`))
    .map((m) => ({ seq: m.seq, subject: m.origin, event: decodeJson(m.data) as Record<string, unknown> }));
}

describe('beamline audit', () => {
  const secrets: string[] = [];
  let tasks: TestTask[] = [];

  it('has a --help for both subcommands that exits 0 and names the flags; usage errors exit 2', async () => {
    const flags: Record<string, string[]> = {
      replay: ['--since', '--until', '--task', '--app', '--follow', '--json', '--nats-url', 'RFC 3339'],
      verify: ['--nats-url', '--root-cert', '--ca-dir', '--json', 'Exit codes'],
    };
    for (const [sub, names] of Object.entries(flags)) {
      for (const form of [
        [sub, '--help'],
        ['help', sub],
      ]) {
        const run = await audit(form);
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(new RegExp(`^Usage: beamline audit ${sub}`));
        expect(run.stdout).toMatch(/Example/);
        for (const name of names) expect(run.stdout).toContain(name);
      }
    }
    const top = await audit(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('  replay');
    expect(top.stdout).toContain('  verify');
    for (const args of [
      [],
      ['frobnicate'],
      ['replay', '--since', 'yesterday'],
      ['replay', '--task', 'not-a-uuid'],
      ['replay', '--bogus'],
      ['verify', '--nats-url', 'nats://127.0.0.1:1'],
    ]) {
      const run = await audit(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(/^beamline audit[^\n]*: [^\n]+\nRun "beamline audit( \w+)? --help" for [^\n]+\n$/);
    }
  });

  it('a run of tasks and results: verify passes, replay lists every event with types, ids and sizes and no plaintext', async () => {
    const secret = () => {
      const s = `audit-secret-${randomUUID()}`;
      secrets.push(s);
      return s;
    };
    tasks = [
      newTask(APP1, [APP2], { body: secret() }),
      newTask(APP1, [APP2, APP2P1], { body: secret() }),
      newTask(APP2, [APP1], { body: secret(), ttl: '5m' }),
    ];
    const [a, b, c] = tasks;
    for (const [task, client] of [
      [a, t.app1],
      [b, t.app1],
      [c, t.app2],
    ] as const)
      expect((await client.postTask(task)).status).toBe(201);
    // One result per worker keeps the expected listing simple.
    expect((await t.app2.putResult(a.id, newResult(a, APP2, [APP1], { body: secret() }))).status).toBe(201);
    expect((await t.app2AtProxy1.putResult(b.id, newResult(b, APP2P1, [APP1], { status: 'permfailed', body: secret() }))).status).toBe(201);
    expect((await t.app1.putResult(c.id, newResult(c, APP1, [APP2], { status: 'claimed', body: undefined }))).status).toBe(201);
    await waitAudited(subjects.taskResult(c.id, APP1));

    const verified = await audit(verifyArgs());
    expect({ code: verified.code, stdout: verified.stdout, stderr: verified.stderr }).toMatchObject({ code: 0 });
    expect(verified.stdout).toMatch(/^OK: \d+ signed events checked/m);
    expect(verified.stdout).not.toMatch(/FAIL/);
    const vj = JSON.parse((await audit(verifyArgs(['--json']))).stdout) as { ok: boolean; checked: number; failed: number; byType: Record<string, number> };
    expect(vj).toMatchObject({ ok: true, failed: 0 });
    expect(vj.byType.TaskCreated).toBeGreaterThanOrEqual(3);
    expect(vj.byType.ResultPut).toBeGreaterThanOrEqual(3);
    // --ca-dir takes root.crt.pem from the CA directory
    expect((await audit(withNats(['verify', '--ca-dir', resolve(t.net.pki.rootCertFile, '..')]))).code).toBe(0);

    const records = await replayJson();
    const ofTask = (id: string) => records.filter((r) => r.taskId === id);
    expect(ofTask(a.id).map((r) => [r.type, r.from, r.status])).toEqual([
      ['TaskCreated', APP1, undefined],
      ['ResultPut', APP2, 'succeeded'],
    ]);
    expect(ofTask(b.id).map((r) => [r.type, r.from, r.to, r.status])).toEqual([
      ['TaskCreated', APP1, [APP2, APP2P1], undefined],
      ['ResultPut', APP2P1, [APP1], 'permfailed'],
    ]);
    expect(ofTask(c.id).map((r) => [r.type, r.from, r.to, r.status])).toEqual([
      ['TaskCreated', APP2, [APP1], undefined],
      ['ResultPut', APP1, [APP2], 'claimed'],
    ]);
    for (const task of tasks) {
      const created = ofTask(task.id)[0];
      const stored = await log.taskCreated(task.id);
      expect(created.messageBytes).toBe(Buffer.byteLength(stored.message as string));
      // XChaCha20-Poly1305: 24-byte nonce + ciphertext (as long as the body) + 16-byte tag
      expect(created.ciphertextBytes).toBe(Buffer.byteLength(task.body) + 40);
      expect(created.time).toBe(new Date(stored.receivedAt as number).toISOString());
      expect(typeof created.kid).toBe('string');
      expect(typeof created.seq).toBe('number');
    }
    expect(ofTask(c.id)[1].ciphertextBytes).toBe(0); // the claim has no body
    expect(ofTask(a.id)[1].ciphertextBytes).toBeGreaterThan(40);
    // The directory is part of the trail too.
    const published = records.filter((r) => r.type === 'CertificatePublished').map((r) => r.commonName);
    expect(published).toEqual(expect.arrayContaining(['proxy1.broker', 'proxy2.broker']));
    expect(records.some((r) => r.type === 'IntermediatePublished')).toBe(true);

    const text = await audit(withNats(['replay']));
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(`TaskCreated\\s+task=${a.id}\\s+${APP1.replace(/\./g, '\\.')} → ${APP2.replace(/\./g, '\\.')}\\s+message=\\d+B\\s+ciphertext=\\d+B`),
    );
    expect(text.stdout).toMatch(new RegExp(`ResultPut\\s+task=${a.id}\\s+.*status=succeeded`));
    // One trail, oldest first: the directory (published as the network started) merged in before the tasks,
    // each event numbered in its own stream.
    expect(text.stdout).toMatch(/^\S+ {2}pki#\d+ {2}IntermediatePublished/m);
    expect(text.stdout).toMatch(/^\S+ {2}audit#\d+ {2}TaskCreated/m);
    const kinds = records.map((r) => r.stream);
    expect(kinds.indexOf('pki')).toBeLessThan(kinds.indexOf('audit'));
    expect(new Set(kinds)).toEqual(new Set(['pki', 'audit']));
    for (const out of [text.stdout, JSON.stringify(records), verified.stdout]) for (const s of secrets) expect(out).not.toContain(s);
  });

  it('filters by --task, --app, --since and --until', async () => {
    const [a, b, c] = tasks;
    const byTask = await replayJson(['--task', b.id]);
    expect(byTask.map((r) => [r.type, r.taskId])).toEqual([
      ['TaskCreated', b.id],
      ['ResultPut', b.id],
    ]);

    const byApp = await replayJson(['--app', APP2P1]);
    expect(byApp.length).toBeGreaterThan(0);
    for (const r of byApp) expect([r.from, ...(r.to as string[])]).toContain(APP2P1);
    expect(byApp.map((r) => r.taskId)).toContain(b.id);
    expect(byApp.map((r) => r.taskId)).not.toContain(a.id);
    expect(byApp.map((r) => r.taskId)).not.toContain(c.id);
    // an app matches as sender and as recipient
    const app2 = await replayJson(['--app', APP2]);
    expect(app2.filter((r) => r.taskId === c.id).map((r) => r.type)).toEqual(['TaskCreated', 'ResultPut']);
    expect(app2.filter((r) => r.taskId === a.id).map((r) => r.type)).toEqual(['TaskCreated', 'ResultPut']);
    expect(app2.filter((r) => String(r.type).startsWith('Certificate'))).toEqual([]);

    const created = (await replayJson(['--task', a.id]))[0];
    const createdAt = Date.parse(created.time as string);
    const resultAt = Date.parse((await replayJson(['--task', a.id]))[1].time as string);
    expect((await replayJson(['--task', a.id, '--since', new Date(resultAt).toISOString()])).map((r) => r.type)).toEqual(['ResultPut']);
    expect((await replayJson(['--task', a.id, '--until', new Date(createdAt).toISOString()])).map((r) => r.type)).toEqual(['TaskCreated']);
    expect((await replayJson(['--task', a.id, '--since', '1h'])).length).toBe(2);
    const future = await audit(withNats(['replay', '--since', new Date(Date.now() + 3_600_000).toISOString()]));
    expect(future).toMatchObject({ code: 0, stdout: '' });
    expect(future.stderr).toMatch(/no events matched/);
  });

  it('"audit replay | head -1" ends quietly with status 0 (no EPIPE crash)', async () => {
    const script = `node ${JSON.stringify(CLI)} audit replay --nats-url ${t.net.natsUrl} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`;
    const run = await new Promise<{ stdout: string; stderr: string }>((done) =>
      execFile('bash', ['-c', script], { env: { ...process.env, BEAMLINE_DEMO_ENV: '' } }, (_err, stdout, stderr) => done({ stdout, stderr })),
    );
    expect(run.stdout.split('\n')).toHaveLength(2); // one line and the end
    expect(run.stderr).toBe('status=0\n');
  });

  it('--follow prints events as they arrive until interrupted', async () => {
    const { spawn } = await import('node:child_process');
    const env = { ...process.env };
    delete env.NATS_URL;
    const child = spawn(process.execPath, [CLI, 'audit', 'replay', '--follow', '--json', '--since', '1s', '--app', APP2P1, '--nats-url', t.net.natsUrl], {
      env,
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await sleep(1_500);
      const task = newTask(APP1, [APP2P1]);
      expect((await t.app1.postTask(task)).status).toBe(201);
      const deadline = Date.now() + 10_000;
      while (!out.includes(task.id) && Date.now() < deadline) await sleep(50);
      expect(out).toContain(task.id);
      expect(JSON.parse(out.split('\n').find((l) => l.includes(task.id))!)).toMatchObject({ type: 'TaskCreated', taskId: task.id, from: APP1, to: [APP2P1] });
    } finally {
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });

  it('keeps every event of an expired task in BEAM_AUDIT: the sweeper purges BEAM_EVENTS only after the audit copied them', async () => {
    // Take BEAM_AUDIT away, so the audit copy lags behind the expiry; once it is back, the copier fills it
    // from BEAM_EVENTS' first message again.
    const config = auditStreamConfig(DEFAULT_STREAM_OPTIONS);
    await jsm.streams.delete(AUDIT_STREAM);
    let restored = false;
    try {
      const task = newTask(APP1, [APP2, APP2P1], { ttl: '1s' });
      expect((await t.app1.postTask(task)).status).toBe(201);
      expect((await t.app2AtProxy1.putResult(task.id, newResult(task, APP2P1, [APP1], { status: 'claimed', body: undefined }))).status).toBe(201);
      expect((await t.app2.putResult(task.id, newResult(task, APP2, [APP1], { body: 'done' }))).status).toBe(201);
      // Expired (logically at once, TaskExpired written by the sweeper) ...
      const deadline = Date.now() + 10_000;
      while ((await log.allMessages()).every((m) => m.subject !== subjects.taskExpired(task.id))) {
        if (Date.now() > deadline) throw new Error(`no TaskExpired\n${dumpLogs(t.net)}`);
        await sleep(100);
      }
      // ... but while the audit has not copied them, the task's events stay in BEAM_EVENTS.
      await sleep(1_500);
      const live = (await log.allMessages()).filter((m) => m.subject.startsWith(`beam.ev.task.${task.id}.`)).map((m) => m.subject);
      expect(live).toEqual([
        subjects.taskCreated(task.id),
        subjects.taskResult(task.id, APP2P1),
        subjects.taskResult(task.id, APP2),
        subjects.taskExpired(task.id),
      ]);

      await jsm.streams.add(config);
      restored = true;
      // Now the audit catches up and the sweeper purges.
      const purgeDeadline = Date.now() + 15_000;
      for (;;) {
        const left = (await log.allMessages()).filter((m) => m.subject.startsWith(`beam.ev.task.${task.id}.`)).map((m) => m.subject);
        if (left.length === 0) break; // the TaskExpired too, once audited
        if (Date.now() > purgeDeadline) throw new Error(`not purged: ${left.join(', ')}\n${dumpLogs(t.net)}`);
        await sleep(100);
      }
      const audited = await auditMessagesOf(task.id);
      expect(audited.map((m) => [m.event.type, m.event.from, m.event.status])).toEqual([
        ['TaskCreated', APP1, undefined],
        ['ResultPut', APP2P1, 'claimed'],
        ['ResultPut', APP2, 'succeeded'],
        ['TaskExpired', APP1, undefined], // TaskExpired names the task's parties too
      ]);

      // replay shows them after the purge, with the expiry, and verify still passes.
      const replayed = await replayJson(['--task', task.id]);
      expect(replayed.map((r) => r.type)).toEqual(['TaskCreated', 'ResultPut', 'ResultPut', 'TaskExpired']);
      expect(replayed[3]).toMatchObject({ taskId: task.id, from: APP1, to: [APP2, APP2P1] });
      expect((await replayJson(['--app', APP1])).filter((r) => r.taskId === task.id).map((r) => r.type)).toContain('TaskExpired');
      const verified = await audit(verifyArgs());
      expect({ code: verified.code, out: verified.stdout }).toMatchObject({ code: 0 });
    } finally {
      if (!restored) await jsm.streams.add(config);
    }
  }, 60_000);

  it('also keeps a short-TTL task copied at normal speed: purged from BEAM_EVENTS, complete in BEAM_AUDIT', async () => {
    const task = newTask(APP2, [APP1], { ttl: '500ms' });
    expect((await t.app2.postTask(task)).status).toBe(201);
    expect((await t.app1.putResult(task.id, newResult(task, APP1, [APP2], { status: 'tempfailed' }))).status).toBe(201);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const left = (await log.allMessages()).filter((m) => m.subject.startsWith(`beam.ev.task.${task.id}.`)).map((m) => m.subject);
      if (left.length === 0) break; // the TaskExpired too, once audited
      if (Date.now() > deadline) throw new Error(`not purged: ${left.join(', ')}`);
      await sleep(100);
    }
    const replayed = await replayJson(['--task', task.id]);
    expect(replayed.map((r) => [r.type, r.status])).toEqual([
      ['TaskCreated', undefined],
      ['ResultPut', 'tempfailed'],
      ['TaskExpired', undefined],
    ]);
  });

  it('verify flags every event altered in the audit stream, by sequence, type, task and reason, and exits 1', async () => {
    const [a] = tasks;
    const genuine = await log.taskCreated(a.id);
    const genuineResult = await log.resultPut(a.id, APP2);

    // 1. payload changed (re-addressed), signature kept
    const forgedId = randomUUID();
    const altered = tamperJws(genuine.message as string, (p) => {
      p.id = forgedId;
      p.to = [APP2P1];
    });
    await log.inject(subjects.taskCreated(forgedId), { ...genuine, taskId: forgedId, to: [APP2P1], message: altered });
    // 2. envelope changed, genuine signed message: the broker's record claims another status
    // (on a subject of its own, so it is easy to find)
    const envelopeTask = randomUUID();
    await log.inject(subjects.taskResult(envelopeTask, APP2), { ...genuineResult, taskId: envelopeTask, status: 'permfailed' });
    // 3. validly signed by proxy1, but for an app of proxy2 (label boundary)
    const p1 = t.net.pki.proxies.find((p) => p.id === 'proxy1.broker')!;
    const impostorId = randomUUID();
    const payload = JSON.parse(Buffer.from((genuine.message as string).split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    const impostor = await signMessage(
      { ...payload, id: impostorId, from: 'app1.proxy2.broker' },
      createPrivateKey(readFileSync(p1.keyFile, 'utf8')),
      p1.serial,
    );
    await log.inject(subjects.taskCreated(impostorId), { ...genuine, taskId: impostorId, from: 'app1.proxy2.broker', message: impostor });
    // 4. signed by a certificate the directory does not know
    const unknownId = randomUUID();
    const unknownKid = tamperJws(genuine.message as string, () => undefined).replace(
      /^[^.]+/,
      Buffer.from(JSON.stringify({ alg: 'PS256', kid: 'deadbeef', typ: 'beamline-msg+jws' })).toString('base64url'),
    );
    await log.inject(subjects.taskCreated(unknownId), { ...genuine, taskId: unknownId, message: unknownKid });
    await waitAudited(subjects.taskCreated(unknownId));

    const auditSeq = async (subject: string): Promise<number> => {
      const m = (await log.allMessages(AUDIT_STREAM)).filter((x) => x.origin === subject).pop()!;
      return m.seq;
    };
    const expected = [
      {
        seq: await auditSeq(subjects.taskCreated(forgedId)),
        type: 'TaskCreated',
        taskId: forgedId,
        reason: expect.stringMatching(/signature does not verify/),
      },
      {
        seq: await auditSeq(subjects.taskResult(envelopeTask, APP2)),
        type: 'ResultPut',
        taskId: envelopeTask,
        reason: expect.stringMatching(
          /envelope does not match.*taskId: event says "[^"]+", signed message says "[^"]+".*status: event says "permfailed", signed message says "succeeded"/,
        ),
      },
      {
        seq: await auditSeq(subjects.taskCreated(impostorId)),
        type: 'TaskCreated',
        taskId: impostorId,
        reason: expect.stringMatching(/signer proxy1\.broker cannot sign for from="app1\.proxy2\.broker"/),
      },
      {
        seq: await auditSeq(subjects.taskCreated(unknownId)),
        type: 'TaskCreated',
        taskId: unknownId,
        reason: expect.stringMatching(/certificate deadbeef.*not in the CA-signed directory/),
      },
    ];

    const json = await audit(verifyArgs(['--json']));
    expect(json.code).toBe(1);
    const summary = JSON.parse(json.stdout) as { ok: boolean; failed: number; failures: unknown[] };
    expect(summary.ok).toBe(false);
    expect(summary.failures).toEqual(expected.map((e) => expect.objectContaining(e)));

    const text = await audit(verifyArgs());
    expect(text.code).toBe(1);
    for (const e of expected) expect(text.stdout).toMatch(new RegExp(`^FAIL  #${e.seq}  ${e.type}  task=${e.taskId}  `, 'm'));
    expect(text.stdout).toMatch(/^FAILED: \d+ signed events checked, \d+ passed, 4 failed/m);
    for (const s of secrets) expect(text.stdout + json.stdout).not.toContain(s);
  });
});
