/**
 * Offline verification of the audit trail. The certificate directory is rebuilt from the PKI events (BEAM_PKI)
 * with the one BEAM_PKI reducer (`PkiDirectory`) and the pinned root; then every signed event — TaskCreated,
 * ResultPut and SocketRequested — is checked as the receiving proxy would have checked it, at the time
 * BEAM_AUDIT stored it (a time no NATS publisher chooses; why not `receivedAt`: signed-message.ts):
 *
 * 1. the message is a compact JWS whose kid names a directory certificate;
 * 2. that certificate chains to the pinned root through a published intermediate; root, intermediate and
 *    certificate were all valid when BEAM_AUDIT stored the event, and it was not revoked at or before then;
 * 3. the signature verifies with it (PS256, typ beamline-msg+jws);
 * 4. the signer's CN can sign for the message's `from` (label boundary, `canSignFor`);
 * 5. the broker's envelope agrees with the signed payload (envelopes.ts), and the event sits on its own subject.
 *
 * TaskExpired and SocketConnected are written by the broker and carry no signature: their subject is checked,
 * and a SocketConnected must connect a socket requested earlier in the trail, once, by its recipient
 * (socket-requests.ts). PKI events the reducer does not honour (unsigned, forged, misplaced, signed by an
 * intermediate never published) are failures too: an honest CA never writes one.
 */
import { parseLogEvent, type FileOffered, type LogEvent, type ResultPut, type SocketRequested, type TaskCreated } from '@beamline/domain';
import { decodeJson, subjects, taskIdOfSubject } from '@beamline/nats';
import { PkiDirectory } from '@beamline/pki';
import type { AuditMessage } from './audit-reader';
import { envelopeMismatches } from './envelopes';
import { checkSignedMessage } from './signed-message';
import { SocketRequests } from './socket-requests';

export interface AuditFailure {
  seq: number;
  subject: string;
  type: string;
  taskId?: string;
  socketId?: string;
  reason: string;
}

export interface AuditSummary {
  ok: boolean;
  /** TaskCreated, ResultPut and SocketRequested whose signature was checked (and unreadable events). */
  checked: number;
  passed: number;
  failed: number;
  byType: Record<string, number>;
  /** TaskExpired and SocketConnected events (the broker's own, unsigned; checked as far as they can be). */
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
  private readonly sockets = new SocketRequests();
  /** The BEAM_AUDIT sequence of the first event read: 1 while the retention has dropped nothing. */
  private firstEventSeq: number | undefined;

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
    this.fail(m, { type }, `directory event not honoured: ${result.reason}`);
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
      if (!applied) this.fail(h, h, `directory event not honoured: ${h.reason}`);
    }
  }

  /** Pass 2: every `beam.ev.>` message, in stream order. */
  async addEvent(m: AuditMessage): Promise<void> {
    this.firstEventSeq ??= m.seq;
    let event: LogEvent;
    try {
      event = parseLogEvent(decodeJson(m.data));
    } catch (err) {
      this.count('Unreadable');
      this.checked++;
      this.fail(m, { type: 'Unreadable', taskId: taskIdOfSubject(m.subject) }, `not a valid event: ${(err as Error).message}`);
      return;
    }
    this.count(event.type);
    if (event.type === 'TaskExpired' || event.type === 'SocketConnected' || event.type === 'FileDropped' || event.type === 'FileExpired') {
      this.unsigned++;
      const reason = this.checkUnsigned(event, m.subject);
      if (reason !== undefined) this.fail(m, event, reason);
      return;
    }
    this.checked++;
    const reason = await this.checkSigned(event, m);
    if (reason === undefined) this.passed++;
    else this.fail(m, event, reason);
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

  /** Why a broker-written, unsigned event cannot be genuine, or undefined. */
  private checkUnsigned(
    event: Extract<LogEvent, { type: 'TaskExpired' | 'SocketConnected' | 'FileDropped' | 'FileExpired' }>,
    subject: string,
  ): string | undefined {
    if (event.type === 'FileDropped')
      return subject === subjects.fileDropped(event.fileId, event.by) ? undefined : `FileDropped of file ${event.fileId} found on ${subject}`;
    if (event.type === 'FileExpired')
      return subject === subjects.fileExpired(event.fileId) ? undefined : `FileExpired of file ${event.fileId} found on ${subject}`;
    if (event.type === 'TaskExpired')
      return subject === subjects.taskExpired(event.taskId) ? undefined : `TaskExpired of task ${event.taskId} found on ${subject}`;
    if (subject !== subjects.socketConnected(event.socketId)) return `SocketConnected of socket ${event.socketId} found on ${subject}`;
    return this.sockets.connected(event, this.firstEventSeq === 1);
  }

  /** Why a signed event fails, or undefined when it verifies. */
  private async checkSigned(event: TaskCreated | ResultPut | SocketRequested | FileOffered, m: AuditMessage): Promise<string | undefined> {
    const expectedSubject =
      event.type === 'SocketRequested'
        ? subjects.socketCreated(event.socketId)
        : event.type === 'FileOffered'
          ? subjects.fileOffered(event.fileId)
          : event.type === 'TaskCreated'
            ? subjects.taskCreated(event.taskId)
            : subjects.taskResult(event.taskId, event.from);
    if (m.subject !== expectedSubject) return `${event.type} from ${event.from} found on ${m.subject}, expected ${expectedSubject}`;
    const replayed = event.type === 'SocketRequested' ? this.sockets.requested(event) : undefined;
    const checked = await checkSignedMessage({ directory: this.directory, revokedAt: this.revokedAt }, event.message, {
      storedAt: m.storedAt,
      receivedAt: event.receivedAt,
    });
    if ('reason' in checked) return checked.reason;
    if (replayed !== undefined) return replayed;
    const mismatches = envelopeMismatches(event, checked.payload);
    return mismatches.length > 0 ? `envelope does not match the signed message (${mismatches.join('; ')})` : undefined;
  }

  private count(type: string): void {
    this.byType[type] = (this.byType[type] ?? 0) + 1;
  }

  private fail(m: { seq: number; subject: string }, about: { type: string; taskId?: string; socketId?: string }, reason: string): void {
    const { type, taskId, socketId } = about;
    this.failures.push({
      seq: m.seq,
      subject: m.subject,
      type,
      ...(taskId !== undefined ? { taskId } : {}),
      ...(socketId !== undefined ? { socketId } : {}),
      reason,
    });
  }
}
