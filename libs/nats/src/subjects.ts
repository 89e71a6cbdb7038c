/**
 * The one place that knows Beamline's NATS subject names.
 *
 * Task events live under one subject tree per aggregate, `beam.ev.task.<taskId>.…`: TaskCreated on
 * `.created` (create-once is enforced with the expected last *subject* sequence, so it needs its own
 * subject), each worker's result on `.result.<app>` (so concurrent PUTs of one worker are serialised the
 * same way), TaskExpired on `.expired`. The expiry sweeper removes a task generation's events by sequence, never
 * by a filtered purge of `beam.ev.task.<taskId>.>` (nats-server 2.9 moves every consumer past such a purge).
 * BeamIds contain dots, so they are encoded as subject tokens (labels never contain `_`).
 */
import { subjectToken } from '@beamline/domain';

export const EVENTS_STREAM = 'BEAM_EVENTS';
export const PKI_STREAM = 'BEAM_PKI';
/** Copies of BEAM_EVENTS' events, filed by kind (`subjects.auditCopy`), kept for the audit retention (BEAM_PKI keeps its own forever). */
export const AUDIT_STREAM = 'BEAM_AUDIT';
/** The object store of sealed bodies too big to travel inside their messages (the stream behind it is OBJ_<bucket>). */
export const BLOBS_BUCKET = 'beam-blobs';
export const BLOBS_STREAM = `OBJ_${BLOBS_BUCKET}`;
/** Header on an audit copy: the BEAM_EVENTS sequence it copies. */
export const AUDIT_ORIGIN_SEQ_HEADER = 'Beam-Origin-Seq';
/** Header on an audit copy: the BEAM_EVENTS subject it copies (the copy's own subject names only the event kind). */
export const AUDIT_ORIGIN_SUBJECT_HEADER = 'Beam-Origin-Subject';
export const NONCE_BUCKET = 'beam-nonces';
/** Leases of elected roles (e.g. the expiry leader among broker-store replicas). */
export const LEASE_BUCKET = 'beam-leases';
export const EXPIRY_LEADER_LEASE = 'expiry-leader';
/**
 * Where broker-api used to keep a session secret it made itself. Nothing secret is kept in NATS any more
 * (SESSION_SECRET is required); broker-api deletes this bucket at start-up if an older version left it.
 */
export const LEGACY_SECRETS_BUCKET = 'beam-broker-secrets';
export const STORE_QUEUE_GROUP = 'broker-store';

/**
 * Proxy presence, shared by all broker-api replicas. `beam-presence` (30 s TTL) holds one key per held
 * control connection, `<proxyToken>.<instanceId>`, refreshed while it is open; `beam-proxies` (no TTL)
 * remembers every proxy ever seen under `<proxyToken>`.
 */
export const PRESENCE_BUCKET = 'beam-presence';
export const PRESENCE_TTL_MS = 30_000;
export const PROXIES_BUCKET = 'beam-proxies';

export const presenceKeys = {
  /** One broker-api instance's control connection(s) from one proxy. */
  connection: (proxyId: string, instanceId: string) => `${subjectToken(proxyId)}.${instanceId}`,
  /** Every instance's connections from one proxy (a KV key filter). */
  allConnections: (proxyId: string) => `${subjectToken(proxyId)}.*`,
  /** The proxy's record in `beam-proxies`. */
  proxy: (proxyId: string) => subjectToken(proxyId),
} as const;

export const subjects = {
  allEvents: 'beam.ev.>',
  allTaskEvents: 'beam.ev.task.>',
  taskCreated: (taskId: string) => `beam.ev.task.${taskId}.created`,
  taskResult: (taskId: string, app: string) => `beam.ev.task.${taskId}.result.${subjectToken(app)}`,
  taskExpired: (taskId: string) => `beam.ev.task.${taskId}.expired`,
  taskAggregate: (taskId: string) => `beam.ev.task.${taskId}.>`,

  /** Socket requests: SocketRequested on `.created` (create-once), SocketConnected on `.connected` (once). */
  socketCreated: (socketId: string) => `beam.ev.socket.${socketId}.created`,
  socketConnected: (socketId: string) => `beam.ev.socket.${socketId}.connected`,
  fileOffered: (fileId: string) => `beam.ev.file.${fileId}.offered`,
  fileDropped: (fileId: string, app: string) => `beam.ev.file.${fileId}.dropped.${subjectToken(app)}`,
  fileExpired: (fileId: string) => `beam.ev.file.${fileId}.expired`,
  socketAggregate: (socketId: string) => `beam.ev.socket.${socketId}.>`,
  /**
   * Core-NATS relay of direct sockets between broker-api replicas (ciphertext frames only). Each end
   * (role `a` = initiator, `b` = recipient) listens on `beam.sock.<id>.<role>.*`: `.hello` for pairing,
   * `.<connId>` for the bytes and control messages of its paired peer.
   */
  allSocketRelay: 'beam.sock.>',
  socketRelayInbox: (socketId: string, role: 'a' | 'b') => `beam.sock.${socketId}.${role}.*`,
  socketRelayHello: (socketId: string, role: 'a' | 'b') => `beam.sock.${socketId}.${role}.hello`,
  socketRelayConn: (socketId: string, role: 'a' | 'b', connId: string) => `beam.sock.${socketId}.${role}.${connId}`,

  allPki: 'beam.pki.>',

  /**
   * BEAM_AUDIT's subject for the copy of an event published on `subject` in BEAM_EVENTS: the kind of event
   * only (`audit.task.created`, `audit.task.result`, `audit.socket.connected`, …), never a task, socket or
   * app id. nats-server 2.9 keeps about 200 bytes of memory per distinct subject for as long as a stream holds
   * it, and the audit trail holds every task for weeks: a subject per task would grow nats-server's memory by
   * gigabytes a day. The original subject travels in the Beam-Origin-Subject header.
   */
  auditCopy: (subject: string) => {
    const [, , aggregate, , kind] = subject.split('.');
    return aggregate === 'task' || aggregate === 'socket' || aggregate === 'file' ? `audit.${aggregate}.${kind ?? 'other'}` : 'audit.other';
  },
  /** The subject copies had before the Beam-Origin-Subject header (the whole original subject after `audit.`). */
  legacyAudit: (subject: string) => `audit.${subject}`,
  allAudit: 'audit.>',
  certificatePublished: (serial: string) => `beam.pki.cert.${serial}`,
  certificateRevoked: (serial: string) => `beam.pki.revoked.${serial}`,
  /** Where IntermediatePublished events written before rotation existed (without a serial) were stored. */
  intermediatePublished: 'beam.pki.im-ca',
  intermediate: (serial: string) => `beam.pki.im.${serial}`,
  intermediateRetired: (serial: string) => `beam.pki.im-retired.${serial}`,

  /** Request/reply: broker-api asks broker-store (queue group) for views. */
  storeQuery: 'beam.store.query',
  /** Request/reply: liveness of the store replicas. */
  storePing: 'beam.store.ping',

  /** Core-NATS wake-ups published after an acknowledged append; never a source of truth. */
  allNotifications: 'beam.notify.>',
  notifyApp: (app: string) => `beam.notify.app.${subjectToken(app)}`,
  notifyTask: (taskId: string) => `beam.notify.task.${taskId}`,
} as const;

/** Extracts the task id from any `beam.ev.task.<id>.…` subject. */
export function taskIdOfSubject(subject: string): string | undefined {
  const parts = subject.split('.');
  return parts[0] === 'beam' && parts[1] === 'ev' && parts[2] === 'task' ? parts[3] : undefined;
}

/** Whether `subject` matches the NATS subject filter `pattern` (`*` one token, `>` the rest). */
export function subjectMatches(pattern: string, subject: string): boolean {
  const want = pattern.split('.');
  const have = subject.split('.');
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}
