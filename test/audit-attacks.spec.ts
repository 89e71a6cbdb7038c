/**
 * The audit tools against a NATS writer (issue 13, attack 7), through the built CLI on a real network. Whoever
 * may publish to NATS can put anything into the trail; `beamline audit` must neither let that text drive the
 * operator's terminal, nor let an unsigned time decide whether a signer was trusted, nor skip socket events.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { createCsr, generateRsaKeyPair, signMessage } from '@beamline/crypto';
import { PKI_EVENT_JWS_TYP } from '@beamline/domain';
import { AUDIT_STREAM, decodeJson, encodePkiEnvelope, EVENTS_STREAM, subjects } from '@beamline/nats';
import { publishCertificate, publishRevocation, signCsr } from '@beamline/pki';
import { newTask } from './support/app-client';
import { runAudit, waitAudited } from './support/cli';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { openSocketPair } from './support/socket-pair';
import { StreamAccess } from './support/stream-access';

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
const withNats = (args: string[]) => [...args, '--nats-url', t.net.natsUrl];
const verifyArgs = (extra: string[] = []) => withNats(['verify', '--root-cert', t.net.pki.rootCertFile, ...extra]);
const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

interface Summary {
  ok: boolean;
  byType: Record<string, number>;
  failures: Array<{ seq: number; type: string; taskId?: string; socketId?: string; subject: string; reason: string }>;
}

async function verifyJson(): Promise<{ code: number; summary: Summary; stdout: string }> {
  const run = await runAudit(verifyArgs(['--json']));
  return { code: run.code, summary: JSON.parse(run.stdout) as Summary, stdout: run.stdout };
}

/** The BEAM_AUDIT sequence of the newest copy of the BEAM_EVENTS message on `subject`. */
async function auditSeq(subject: string): Promise<number> {
  await waitAudited(jsm, subject);
  return (await log.allMessages(AUDIT_STREAM)).filter((m) => m.origin === subject).pop()!.seq;
}

async function eventOn(subject: string): Promise<Record<string, unknown>> {
  return decodeJson((await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subject }))!.data) as Record<string, unknown>;
}

function payloadOf(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Control characters a terminal acts on, or that reorder what it shows. */
const RAW_CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028-\u202e\u2066-\u2069]/;
const ESC = '\u001b';
/** Erases the line the kid is printed on, writes a made-up one, and hides everything after it. */
const FAKE_LINE = `2025-01-01T00:00:00.000Z  #1  TaskCreated  task=${randomUUID()}  all is well`;
const ANSI_KID = `deadbeef\r${ESC}[2K${FAKE_LINE}${ESC}[8m\u009b2J\u202e`;

let genuineTaskId = '';

describe('beamline audit against a NATS writer', () => {
  it('verifies the socket events of an honest trail, signed request and connection alike', async () => {
    const task = newTask(APP1, [APP2]);
    expect((await t.app1.postTask(task)).status).toBe(201);
    genuineTaskId = task.id;
    const pair = await openSocketPair(t.app1, t.app2);
    pair.initiator.destroy();
    pair.recipient.destroy();
    await waitAudited(jsm, subjects.socketConnected(pair.id));

    const { code, summary } = await verifyJson();
    expect({ code, failures: summary.failures }).toEqual({ code: 0, failures: [] });
    expect(summary.byType).toMatchObject({ TaskCreated: 1, SocketRequested: 1, SocketConnected: 1 });
  });

  it('replay and verify print a kid of terminal control sequences escaped, never raw', async () => {
    const genuine = await eventOn(subjects.taskCreated(genuineTaskId));
    const [, payload, signature] = (genuine.message as string).split('.');
    const taskId = randomUUID();
    const message = [b64url({ alg: 'PS256', kid: ANSI_KID, typ: 'beamline-msg+jws' }), payload, signature].join('.');
    await log.inject(subjects.taskCreated(taskId), { ...genuine, taskId, message });
    // A directory event with the same kid and a reason of bidi and 8-bit controls, straight into BEAM_PKI.
    const serial = randomBytes(16).toString('hex');
    const revocation = { type: 'CertificateRevoked', v: 1, serial, revokedAt: Date.now(), reason: `ok\u202e\u009b2J\u2028` };
    const forgedRevocation = [b64url({ alg: 'PS256', kid: ANSI_KID, typ: PKI_EVENT_JWS_TYP }), b64url(revocation), 'AAAA'].join('.');
    await jetstream(log.nc).publish(subjects.certificateRevoked(serial), encodePkiEnvelope(forgedRevocation));
    const seq = await auditSeq(subjects.taskCreated(taskId));

    const replay = await runAudit(withNats(['replay']));
    expect(replay.code).toBe(0);
    expect(replay.stdout).not.toMatch(RAW_CONTROLS);
    const line = replay.stdout.split('\n').find((l) => l.includes(`task=${taskId}`))!;
    expect(line).toContain('kid=deadbeef\\r\\x1b[2K2025-01-01T00:00:00.000Z  #1  TaskCreated');
    expect(line).toContain('\\x1b[8m\\x9b2J\\u202e');
    const revokedLine = replay.stdout.split('\n').find((l) => l.includes(`serial=${serial}`))!;
    expect(revokedLine).toContain('signed-by=deadbeef\\r\\x1b[2K');
    expect(revokedLine).toContain('\\u202e');

    // --json keeps the value exactly (a JSON reader gets the kid back) without a raw control on the terminal.
    const json = await runAudit(withNats(['replay', '--json', '--task', taskId]));
    expect(json.stdout).not.toMatch(RAW_CONTROLS);
    expect((JSON.parse(json.stdout) as { kid: string }).kid).toBe(ANSI_KID);

    const verify = await runAudit(verifyArgs());
    expect(verify.code).toBe(1);
    expect(verify.stdout).not.toMatch(RAW_CONTROLS);
    expect(verify.stdout).toMatch(
      new RegExp(`^FAIL  #${seq}  TaskCreated  task=${taskId}  signed with certificate deadbeef\\\\r\\\\x1b\\[2K.*not in the CA-signed directory$`, 'm'),
    );
    const verifyJsonRun = await runAudit(verifyArgs(['--json']));
    expect(verifyJsonRun.stdout).not.toMatch(RAW_CONTROLS);
    expect((JSON.parse(verifyJsonRun.stdout) as Summary).failures.find((f) => f.seq === seq)?.reason).toContain(ANSI_KID);
  });

  it('verify judges a signer at the time BEAM_AUDIT stored the event: a backdated event signed after its key was revoked fails', async () => {
    const proxyId = 'proxy8.broker';
    const { privateKey } = generateRsaKeyPair(2048);
    const ca = t.net.pki.loadedCa;
    const issued = signCsr(ca, createCsr(proxyId, privateKey), { proxyId, validityDays: 30 });
    await publishCertificate(jetstream(log.nc), ca, issued.certPem);
    const genuine = await eventOn(subjects.taskCreated(genuineTaskId));
    const signedTask = async (receivedAt: number): Promise<{ taskId: string; event: Record<string, unknown> }> => {
      const taskId = randomUUID();
      const from = `app1.${proxyId}`;
      const message = await signMessage({ ...payloadOf(genuine.message as string), id: taskId, from, ttl: '60s' }, privateKey, issued.serial);
      return { taskId, event: { ...genuine, taskId, from, message, receivedAt, expiresAt: receivedAt + 60_000 } };
    };

    // Signed and stored while the certificate was good: it passes, also after the revocation.
    const before = await signedTask(Date.now());
    await log.inject(subjects.taskCreated(before.taskId), before.event);
    const beforeSeq = await auditSeq(subjects.taskCreated(before.taskId));
    await sleep(20);
    const revokedAt = Date.now();
    await publishRevocation(jetstream(log.nc), ca, issued.serial, { reason: 'keyCompromise', revokedAt });
    await sleep(20);

    // Signed after the revocation by the holder of the revoked key, claiming to be received before it.
    const receivedAt = revokedAt - 10;
    expect(receivedAt).toBeGreaterThan(issued.notBefore.getTime());
    const backdated = await signedTask(receivedAt);
    await log.inject(subjects.taskCreated(backdated.taskId), backdated.event);
    const seq = await auditSeq(subjects.taskCreated(backdated.taskId));

    const { code, summary } = await verifyJson();
    expect(code).toBe(1);
    expect(summary.failures.map((f) => f.seq)).not.toContain(beforeSeq);
    expect(summary.failures).toContainEqual(
      expect.objectContaining({
        seq,
        type: 'TaskCreated',
        taskId: backdated.taskId,
        reason: expect.stringMatching(
          new RegExp(
            `^signer certificate ${issued.serial} \\(${proxyId}\\) was revoked at ${new Date(revokedAt).toISOString()}, before BEAM_AUDIT stored the event at .* \\(the event claims it was received at ${new Date(receivedAt).toISOString()}\\)$`,
          ),
        ),
      }),
    );
    const text = await runAudit(verifyArgs());
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`^FAIL  #${seq}  TaskCreated  task=${backdated.taskId}  signer certificate ${issued.serial} .* was revoked`, 'm'));
  });

  it('verify reports socket events that are forged, unsigned, replayed or connect a socket never requested', async () => {
    const honest = (await log.allMessages(AUDIT_STREAM)).find((m) => m.origin.startsWith('beam.ev.socket.') && m.origin.endsWith('.created'))!;
    const genuine = decodeJson(honest.data) as Record<string, unknown>;
    const [header, , signature] = (genuine.message as string).split('.');

    // Re-addressed: the signed payload changed, the signature kept.
    const forgedId = randomUUID();
    const forged = [header, b64url({ ...payloadOf(genuine.message as string), id: forgedId, to: ['app2.proxy1.broker'] }), signature].join('.');
    await log.inject(subjects.socketCreated(forgedId), { ...genuine, socketId: forgedId, to: ['app2.proxy1.broker'], message: forged });
    // No signature at all.
    const unsignedId = randomUUID();
    await log.inject(subjects.socketCreated(unsignedId), { ...genuine, socketId: unsignedId, message: 'unsigned' });
    // The honest signed request, published again.
    await log.inject(honest.origin, genuine);
    // A connection to a socket nobody requested.
    const ghostId = randomUUID();
    await log.inject(subjects.socketConnected(ghostId), { type: 'SocketConnected', v: 1, socketId: ghostId, by: APP2, connectedAt: Date.now() });
    const expected = [
      {
        seq: await auditSeq(subjects.socketCreated(forgedId)),
        type: 'SocketRequested',
        socketId: forgedId,
        reason: expect.stringMatching(/signature does not verify/),
      },
      {
        seq: await auditSeq(subjects.socketCreated(unsignedId)),
        type: 'SocketRequested',
        socketId: unsignedId,
        reason: expect.stringMatching(/not a signed message/),
      },
      { seq: await auditSeq(honest.origin), type: 'SocketRequested', socketId: genuine.socketId, reason: expect.stringMatching(/was requested before/) },
      { seq: await auditSeq(subjects.socketConnected(ghostId)), type: 'SocketConnected', socketId: ghostId, reason: expect.stringMatching(/never requested/) },
    ];

    const { code, summary } = await verifyJson();
    expect(code).toBe(1);
    for (const e of expected) expect(summary.failures).toContainEqual(expect.objectContaining(e));
    const text = await runAudit(verifyArgs());
    for (const e of expected) expect(text.stdout).toMatch(new RegExp(`^FAIL  #${e.seq}  ${e.type}  socket=${e.socketId as string}  `, 'm'));
  });
});
