/**
 * One BEAM_AUDIT message as an audit record: what happened, when, to which task, between whom, and how big
 * it was. Never a body: bodies are sealed (there is no plaintext to show), and this module does not even
 * decode the ciphertext — its size is computed from the base64 text.
 */
import { parseLogEvent, type LogEvent } from '@beamline/domain';
import { decodeJson, taskIdOfSubject } from '@beamline/nats';
import { parseCertificate } from '@beamline/crypto';
import { decodePkiEnvelope } from '@beamline/nats';
import { readPkiJws } from '@beamline/pki';

export type AuditRecordType =
  | 'TaskCreated'
  | 'ResultPut'
  | 'TaskExpired'
  | 'SocketRequested'
  | 'SocketConnected'
  | 'FileOffered'
  | 'FileDropped'
  | 'FileExpired'
  | 'CertificatePublished'
  | 'CertificateRevoked'
  | 'IntermediatePublished'
  | 'IntermediateRetired'
  | 'Unreadable';

export interface AuditRecord {
  /** BEAM_AUDIT stream sequence (BEAM_PKI's for directory events). */
  seq: number;
  /** Which stream `seq` numbers: `audit` (BEAM_AUDIT) or `pki` (BEAM_PKI); shown as `audit#17`, `pki#3`. */
  stream?: 'audit' | 'pki';
  subject: string;
  /** ISO 8601: receivedAt (task events), expiredAt (TaskExpired), revokedAt or the time BEAM_AUDIT stored it (PKI). */
  time: string;
  type: AuditRecordType;
  taskId?: string;
  /** Socket requests (direct sockets). */
  socketId?: string;
  /** Files sent store-and-forward. */
  fileId?: string;
  /** A file's plaintext size. */
  fileBytes?: number;
  from?: string;
  to?: string[];
  status?: string;
  /** Bytes of the stored signed message (the compact JWS). */
  messageBytes?: number;
  /** Bytes of the sealed body (nonce ‖ ciphertext ‖ tag); 0 when the message carries no body. */
  ciphertextBytes?: number;
  /** Signer certificate serial (JWS kid). */
  kid?: string;
  expiresAt?: string;
  /** PKI events. */
  serial?: string;
  commonName?: string;
  notBefore?: string;
  notAfter?: string;
  reason?: string;
  /** Unreadable: why. */
  error?: string;
  /** ISO 8601: when the stream read (BEAM_AUDIT, or BEAM_PKI for the directory) stored it, by nats-server's clock. */
  storedAt?: string;
}

/** Decoded length of a base64 / base64url string, from its text alone. */
export function base64DecodedLength(s: string): number {
  const clean = s.replace(/[\s=]/g, '');
  return Math.floor((clean.length * 3) / 4);
}

/** The JWS payload of a message as JSON, without verifying it (only to read sizes and envelope fields). */
export function unverifiedJwsPayload(jws: string): Record<string, unknown> | undefined {
  const parts = jws.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const v = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function jwsKid(jws: string): string | undefined {
  try {
    const h = JSON.parse(Buffer.from(jws.split('.')[0], 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof h.kid === 'string' ? h.kid : undefined;
  } catch {
    return undefined;
  }
}

function sizes(message: string): { messageBytes: number; ciphertextBytes: number; kid?: string } {
  const payload = unverifiedJwsPayload(message);
  const encrypted = payload?.encrypted;
  return {
    messageBytes: Buffer.byteLength(message, 'utf8'),
    ciphertextBytes: typeof encrypted === 'string' ? base64DecodedLength(encrypted) : 0,
    kid: jwsKid(message),
  };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Describes one BEAM_AUDIT message; `storedAt` is its stream timestamp (ms). Never throws. */
export function describeAuditMessage(seq: number, subject: string, data: Uint8Array, storedAt: number): AuditRecord {
  return { ...describeEvent(seq, subject, data, storedAt), storedAt: iso(storedAt) };
}

function describeEvent(seq: number, subject: string, data: Uint8Array, storedAt: number): AuditRecord {
  const base = { seq, subject };
  if (subject.startsWith('beam.pki.')) return describePki(seq, subject, data, storedAt);
  let event: LogEvent;
  try {
    event = parseLogEvent(decodeJson(data));
  } catch (err) {
    return { ...base, time: iso(storedAt), type: 'Unreadable', taskId: taskIdOfSubject(subject), error: (err as Error).message };
  }
  switch (event.type) {
    case 'TaskCreated':
      return {
        ...base,
        time: iso(event.receivedAt),
        type: event.type,
        taskId: event.taskId,
        from: event.from,
        to: event.to,
        ...sizes(event.message),
        expiresAt: iso(event.expiresAt),
      };
    case 'ResultPut':
      return {
        ...base,
        time: iso(event.receivedAt),
        type: event.type,
        taskId: event.taskId,
        from: event.from,
        to: event.to,
        status: event.status,
        ...sizes(event.message),
      };
    case 'TaskExpired':
      return {
        ...base,
        time: iso(event.expiredAt),
        type: event.type,
        taskId: event.taskId,
        ...(event.from && event.to ? { from: event.from, to: event.to } : {}),
      };
    default:
      return describeOtherEvent(base, event);
  }
}

/** Socket and file events. */
function describeOtherEvent(
  base: { seq: number; subject: string },
  event: Exclude<LogEvent, { type: 'TaskCreated' | 'ResultPut' | 'TaskExpired' }>,
): AuditRecord {
  switch (event.type) {
    case 'SocketRequested':
      return {
        ...base,
        time: iso(event.receivedAt),
        type: event.type,
        socketId: event.socketId,
        from: event.from,
        to: event.to,
        messageBytes: event.message.length,
        expiresAt: iso(event.expiresAt),
      };
    case 'SocketConnected':
      return { ...base, time: iso(event.connectedAt), type: event.type, socketId: event.socketId, from: event.by };
    case 'FileOffered':
      return {
        ...base,
        time: iso(event.receivedAt),
        type: event.type,
        fileId: event.fileId,
        from: event.from,
        to: event.to,
        fileBytes: event.size,
        messageBytes: event.message.length,
        expiresAt: iso(event.expiresAt),
      };
    case 'FileDropped':
      return { ...base, time: iso(event.droppedAt), type: event.type, fileId: event.fileId, from: event.by };
    case 'FileExpired':
      return { ...base, time: iso(event.expiredAt), type: event.type, fileId: event.fileId };
  }
}

function describePki(seq: number, subject: string, data: Uint8Array, storedAt: number): AuditRecord {
  const base = { seq, subject, time: iso(storedAt) };
  const compact = decodePkiEnvelope(data);
  if (compact === undefined) return { ...base, type: 'Unreadable', error: 'not a CA-signed directory event (no {"jws": …} envelope)' };
  try {
    const { event, kid } = readPkiJws(compact);
    if (event.type === 'CertificateRevoked') {
      return { ...base, time: iso(event.revokedAt), type: event.type, serial: event.serial, kid, ...(event.reason ? { reason: event.reason } : {}) };
    }
    if (event.type === 'IntermediateRetired') {
      return { ...base, time: iso(event.retiredAt), type: event.type, serial: event.serial, kid, ...(event.reason ? { reason: event.reason } : {}) };
    }
    let cert: { serial?: string; commonName?: string; notBefore?: string; notAfter?: string } = {};
    try {
      const c = parseCertificate(event.pem);
      cert = { serial: c.serial, commonName: c.commonName, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
    } catch {
      cert = {};
    }
    return { ...base, type: event.type, kid, ...cert, ...(event.type === 'CertificatePublished' ? { serial: event.serial } : {}) };
  } catch (err) {
    return { ...base, type: 'Unreadable', error: (err as Error).message };
  }
}

/** Filters of `beamline audit replay`. */
export interface RecordFilter {
  sinceMs?: number;
  untilMs?: number;
  taskId?: string;
  app?: string;
}

/**
 * True when `record` passes `filter`. `parties` supplies from/to for a TaskExpired (which names only its
 * task) so that `--app` also shows the expiry of the app's tasks.
 */
export function matchesFilter(record: AuditRecord, filter: RecordFilter, parties?: { from: string; to: string[] }): boolean {
  const t = Date.parse(record.time);
  if (filter.sinceMs !== undefined && t < filter.sinceMs) return false;
  if (filter.untilMs !== undefined && t > filter.untilMs) return false;
  if (filter.taskId !== undefined && record.taskId !== filter.taskId) return false;
  if (filter.app !== undefined) {
    const from = record.from ?? parties?.from;
    const to = record.to ?? parties?.to ?? [];
    if (from !== filter.app && !to.includes(filter.app)) return false;
  }
  return true;
}

/** One human-readable line (no trailing newline). */
export function formatRecord(r: AuditRecord): string {
  const cols: string[] = [r.time, `${r.stream ?? ''}#${r.seq}`, r.type.padEnd(21)];
  if (r.type === 'TaskCreated' || r.type === 'ResultPut' || r.type === 'TaskExpired') {
    cols.push(`task=${r.taskId}`);
    if (r.from !== undefined) cols.push(`${r.from} → ${(r.to ?? []).join(',')}`);
    if (r.status !== undefined) cols.push(`status=${r.status}`);
    if (r.messageBytes !== undefined) cols.push(`message=${r.messageBytes}B`, `ciphertext=${r.ciphertextBytes ?? 0}B`);
    if (r.kid !== undefined) cols.push(`kid=${r.kid}`);
  } else if (r.type === 'SocketRequested' || r.type === 'SocketConnected') {
    cols.push(`socket=${r.socketId}`);
    if (r.from !== undefined) cols.push(`${r.from}${r.to ? ` → ${r.to.join(',')}` : ''}`);
    if (r.messageBytes !== undefined) cols.push(`message=${r.messageBytes}B`);
  } else if (r.type === 'Unreadable') {
    cols.push(`subject=${r.subject}`, ...(r.taskId ? [`task=${r.taskId}`] : []), `error=${JSON.stringify(r.error)}`);
  } else {
    if (r.serial !== undefined) cols.push(`serial=${r.serial}`);
    if (r.commonName !== undefined) cols.push(`cn=${JSON.stringify(r.commonName)}`);
    if (r.notAfter !== undefined) cols.push(`valid=${r.notBefore}..${r.notAfter}`);
    if (r.reason !== undefined) cols.push(`reason=${JSON.stringify(r.reason)}`);
    if (r.kid !== undefined) cols.push(`signed-by=${r.kid}`);
  }
  return cols.join('  ');
}
