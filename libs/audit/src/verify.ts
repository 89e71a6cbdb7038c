/**
 * Offline verification of the audit trail. The certificate directory is rebuilt from the PKI events found
 * in BEAM_AUDIT with the one BEAM_PKI reducer (`PkiDirectory`) and the pinned root; then every TaskCreated
 * and ResultPut is checked as the receiving proxy would have checked it *at the time the broker received it*:
 *
 * 1. the message is a compact JWS whose kid names a directory certificate;
 * 2. that certificate chains to the pinned root through a published intermediate, and root, intermediate
 *    and certificate were all valid at `receivedAt`; it was not revoked at or before `receivedAt`;
 * 3. the signature verifies with it (PS256, typ beamline-msg+jws);
 * 4. the signer's CN can sign for the message's `from` (label boundary, `canSignFor`);
 * 5. the broker's envelope agrees with the signed payload: task id, from, to, status (results), digest and
 *    expiry = receivedAt + ttl (tasks), and the event sits on its own subject.
 *
 * TaskExpired events are written by the broker and carry no signature: only their subject is checked.
 * PKI events the reducer does not honour (unsigned, forged, misplaced, signed by an intermediate never
 * published) are failures too: an honest CA never writes one.
 */
import { isDeepStrictEqual } from 'node:util';
import { isCryptoError, readJwsKid, verifyMessage, type CertInfo } from '@beamline/crypto';
import { canSignFor, parseEvent, ttlMsOf, type BeamEvent, type ResultPut, type TaskCreated } from '@beamline/domain';
import { decodeJson, subjects, taskIdOfSubject } from '@beamline/nats';
import { PkiDirectory } from '@beamline/pki';
import type { AuditMessage } from './audit-reader';

export interface AuditFailure {
  seq: number;
  subject: string;
  type: string;
  taskId?: string;
  reason: string;
}

export interface AuditSummary {
  ok: boolean;
  /** TaskCreated + ResultPut whose signature was checked. */
  checked: number;
  passed: number;
  failed: number;
  byType: Record<string, number>;
  /** TaskExpired events (unsigned; subject checked). */
  unsigned: number;
  pkiEvents: number;
  certificates: number;
  failures: AuditFailure[];
}

const MAX_HELD_PKI = 10_000;

export class AuditVerifier {
  readonly directory: PkiDirectory;
  private readonly revokedAt = new Map<string, number>();
  private readonly heldPki: { seq: number; subject: string; reason: string; serial?: string; type: string }[] = [];
  private readonly failures: AuditFailure[] = [];
  private pkiEvents = 0;
  private checked = 0;
  private passed = 0;
  private unsigned = 0;
  private readonly byType: Record<string, number> = {};

  constructor(rootCertPem: string) {
    this.directory = new PkiDirectory(rootCertPem);
  }

  /** Pass 1: every `beam.pki.>` message, in stream order. */
  addPki(m: AuditMessage): void {
    this.pkiEvents++;
    const result = this.directory.apply(m.subject, m.data);
    if (result.accepted) {
      if (result.event.type === 'CertificateRevoked' && !this.revokedAt.has(result.event.serial))
        this.revokedAt.set(result.event.serial, result.event.revokedAt);
      return;
    }
    const serial = /^beam\.pki\.(?:cert|revoked)\.(.+)$/.exec(m.subject)?.[1];
    const type = m.subject.startsWith('beam.pki.revoked.')
      ? 'CertificateRevoked'
      : m.subject.startsWith('beam.pki.cert.')
        ? 'CertificatePublished'
        : m.subject === subjects.intermediatePublished
          ? 'IntermediatePublished'
          : 'PkiEvent';
    if (result.held) {
      if (this.heldPki.length < MAX_HELD_PKI) this.heldPki.push({ seq: m.seq, subject: m.subject, reason: result.reason, serial, type });
      return;
    }
    this.fail({ seq: m.seq, subject: m.subject, type, reason: `directory event not honoured: ${result.reason}` });
  }

  /**
   * Ends pass 1: held events whose intermediate never appeared become failures, and revocations that were
   * applied late (after their intermediate) are picked up from the directory.
   */
  finishPki(): void {
    for (const row of this.directory.listing()) {
      if (row.revokedAt && !this.revokedAt.has(row.serial)) this.revokedAt.set(row.serial, Date.parse(row.revokedAt));
    }
    for (const h of this.heldPki) {
      const applied =
        h.type === 'CertificatePublished'
          ? h.serial !== undefined && this.directory.get(h.serial) !== undefined
          : h.type === 'CertificateRevoked'
            ? h.serial !== undefined && this.directory.isRevoked(h.serial)
            : false;
      if (!applied) this.fail({ seq: h.seq, subject: h.subject, type: h.type, reason: `directory event not honoured: ${h.reason}` });
    }
  }

  /** Pass 2: every `beam.ev.>` message, in stream order. */
  async addEvent(m: AuditMessage): Promise<void> {
    const subjectTask = taskIdOfSubject(m.subject);
    let event: BeamEvent;
    try {
      event = parseEvent(decodeJson(m.data));
    } catch (err) {
      this.count('Unreadable');
      this.checked++;
      this.fail({ seq: m.seq, subject: m.subject, type: 'Unreadable', taskId: subjectTask, reason: `not a valid event: ${(err as Error).message}` });
      return;
    }
    this.count(event.type);
    if (event.type === 'TaskExpired') {
      this.unsigned++;
      if (m.subject !== subjects.taskExpired(event.taskId)) {
        this.fail({
          seq: m.seq,
          subject: m.subject,
          type: event.type,
          taskId: event.taskId,
          reason: `TaskExpired of task ${event.taskId} found on ${m.subject}`,
        });
      }
      return;
    }
    this.checked++;
    const reason = await this.check(event, m.subject);
    if (reason === undefined) this.passed++;
    else this.fail({ seq: m.seq, subject: m.subject, type: event.type, taskId: event.taskId, reason });
  }

  summary(): AuditSummary {
    const failed = this.failures.length;
    return {
      ok: failed === 0,
      checked: this.checked,
      passed: this.passed,
      failed,
      byType: { ...this.byType },
      unsigned: this.unsigned,
      pkiEvents: this.pkiEvents,
      certificates: this.directory.size,
      failures: [...this.failures].sort((a, b) => a.seq - b.seq),
    };
  }

  /** Why `event` fails, or undefined when it verifies. */
  private async check(event: TaskCreated | ResultPut, subject: string): Promise<string | undefined> {
    const at = event.receivedAt;
    const atIso = new Date(at).toISOString();
    const expectedSubject = event.type === 'TaskCreated' ? subjects.taskCreated(event.taskId) : subjects.taskResult(event.taskId, event.from);
    if (subject !== expectedSubject) return `event for task ${event.taskId} from ${event.from} found on ${subject}, expected ${expectedSubject}`;

    let kid: string;
    try {
      kid = readJwsKid(event.message);
    } catch (err) {
      return `message is not a signed message: ${(err as Error).message}`;
    }
    const cert = this.directory.get(kid);
    if (!cert) return `signed with certificate ${kid}, which is not in the CA-signed directory`;
    let verified: CertInfo;
    try {
      verified = this.directory.verify(cert, at);
    } catch (err) {
      const what = isCryptoError(err, 'expired') || isCryptoError(err, 'not_yet_valid') ? 'was not valid' : 'is not trusted';
      return `signer certificate ${kid} (${cert.commonName}) ${what} at ${atIso}: ${(err as Error).message}`;
    }
    const revokedAt = this.revokedAt.get(kid);
    if (revokedAt !== undefined && revokedAt <= at)
      return `signer certificate ${kid} (${cert.commonName}) was revoked at ${new Date(revokedAt).toISOString()}, before ${atIso}`;

    let payload: Record<string, unknown>;
    try {
      const p = await verifyMessage<unknown>(event.message, verified.publicKey);
      if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'signed payload is not a JSON object';
      payload = p as Record<string, unknown>;
    } catch (err) {
      return `signature does not verify with certificate ${kid} (${cert.commonName}): ${(err as Error).message}`;
    }
    if (typeof payload.from !== 'string' || !canSignFor(verified.commonName, payload.from)) {
      return `signer ${verified.commonName} cannot sign for from=${JSON.stringify(payload.from)}`;
    }
    const mismatches = envelopeMismatches(event, payload);
    return mismatches.length > 0 ? `envelope does not match the signed message (${mismatches.join('; ')})` : undefined;
  }

  private count(type: string): void {
    this.byType[type] = (this.byType[type] ?? 0) + 1;
  }

  private fail(f: AuditFailure): void {
    this.failures.push(f);
  }
}

/** Where the event's envelope (what the broker wrote around the message) disagrees with the signed message. */
function envelopeMismatches(event: TaskCreated | ResultPut, payload: Record<string, unknown>): string[] {
  const mismatches: string[] = [];
  const cmp = (name: string, envelope: unknown, signed: unknown): void => {
    if (!isDeepStrictEqual(envelope, signed)) mismatches.push(`${name}: event says ${JSON.stringify(envelope)}, signed message says ${JSON.stringify(signed)}`);
  };
  cmp('taskId', event.taskId, event.type === 'TaskCreated' ? payload.id : payload.task);
  cmp('from', event.from, payload.from);
  cmp('to', event.to, payload.to);
  if (event.type === 'ResultPut') {
    cmp('status', event.status, payload.status);
    return mismatches;
  }
  cmp('digest', event.digest, payload.digest);
  let ttlMs: number | undefined;
  try {
    ttlMs = ttlMsOf({ ttl: payload.ttl as string });
  } catch {
    mismatches.push(`ttl: signed ttl ${JSON.stringify(payload.ttl)} is not a duration`);
  }
  if (ttlMs !== undefined && event.expiresAt !== event.receivedAt + ttlMs) {
    mismatches.push(
      `expiresAt: event says ${new Date(event.expiresAt).toISOString()}, receivedAt + signed ttl ${JSON.stringify(payload.ttl)} is ${new Date(event.receivedAt + ttlMs).toISOString()}`,
    );
  }
  return mismatches;
}
