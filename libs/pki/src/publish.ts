/**
 * Publishing CA-signed events to the BEAM_PKI stream. Each event is idempotent: a fixed `Nats-Msg-Id`
 * per event (recognised inside the stream's duplicate window) and, beyond it, a look at the subject's last
 * message, so re-running `beamline pki sign` or `revoke` never duplicates anything.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { parseCertificate } from '@beamline/crypto';
import { PkiLog, pkiEventSubject } from '@beamline/nats';
import { type CertificatePublished, type CertificateRevoked, type IntermediatePublished, type IntermediateRetired, type PkiEvent } from '@beamline/domain';
import { assertCaUsable, type LoadedCa } from './ca-dir';
import { readPkiJws, signPkiEvent } from './ca-signature';
import { PkiError } from './errors';
import { normaliseSerial } from './serial';

/** `published` is false when the directory already held the same event (nothing was written). */
export interface PublishResult {
  seq: number;
  published: boolean;
}

/** The CA keys and certificates a publisher needs (a {@link LoadedCa}). */
export type CaSigner = Pick<LoadedCa, 'root' | 'im' | 'rootKey' | 'imKey' | 'imCertPem'>;

/** BEAM_PKI as a {@link PkiLog}; a JetStreamClient (what tests and the dev network hold) is wrapped in one. */
export type PkiTarget = PkiLog | JetStreamClient;

/** IntermediatePublished, signed by the ROOT key (kid = root serial), on its own subject; idempotent per serial. */
export async function publishIntermediate(target: PkiTarget, ca: CaSigner): Promise<PublishResult> {
  assertCaUsable(ca);
  const log = pkiLogOf(target);
  const event: IntermediatePublished = { type: 'IntermediatePublished', v: 1, serial: ca.im.serial, pem: ca.im.pem };
  const last = await lastEvent(log, pkiEventSubject(event));
  if (last && last.event.type === 'IntermediatePublished' && last.kid === ca.root.serial && sameCert(last.event.pem, ca.im.pem)) {
    return { seq: last.seq, published: false };
  }
  return publish(log, event, signPkiEvent(event, ca.rootKey, ca.root.serial), `im-${ca.im.serial}`);
}

/**
 * IntermediateRetired, signed by the ROOT key: every verifier stops trusting certificates the intermediate
 * `serial` issued. Refuses to retire the CA directory's own issuing intermediate (rotate first); a second
 * retirement is a no-op.
 */
export async function publishIntermediateRetirement(
  target: PkiTarget,
  ca: Pick<CaSigner, 'root' | 'im' | 'rootKey'>,
  serial: string,
  opts: { reason?: string; retiredAt?: number } = {},
): Promise<PublishResult> {
  assertCaUsable(ca);
  const s = normaliseSerial(serial);
  if (s === ca.im.serial) {
    throw new PkiError('invalid_input', `${s} is the intermediate this CA directory issues with; create its successor first (beamline pki intermediate new)`);
  }
  if (s === ca.root.serial) throw new PkiError('invalid_input', `${s} is the root, not an intermediate`);
  const log = pkiLogOf(target);
  const event: IntermediateRetired = { type: 'IntermediateRetired', v: 1, serial: s, retiredAt: opts.retiredAt ?? Date.now() };
  if (opts.reason !== undefined && opts.reason !== '') event.reason = opts.reason;
  const last = await lastEvent(log, pkiEventSubject(event));
  if (last && last.event.type === 'IntermediateRetired' && last.kid === ca.root.serial) return { seq: last.seq, published: false };
  return publish(log, event, signPkiEvent(event, ca.rootKey, ca.root.serial), `im-retired-${s}`);
}

/** CertificatePublished, signed by the intermediate (kid = intermediate serial); idempotent per serial. */
export async function publishCertificate(target: PkiTarget, ca: CaSigner, certPem: string): Promise<PublishResult> {
  assertCaUsable(ca);
  const log = pkiLogOf(target);
  const cert = parseCertificate(certPem);
  const event: CertificatePublished = { type: 'CertificatePublished', v: 1, serial: cert.serial, pem: cert.pem };
  const last = await lastEvent(log, pkiEventSubject(event));
  if (last && last.event.type === 'CertificatePublished' && last.kid === ca.im.serial) return { seq: last.seq, published: false };
  return publish(log, event, signPkiEvent(event, ca.imKey, ca.im.serial), `cert-${cert.serial}`);
}

/** CertificateRevoked, signed by the intermediate (kid = intermediate serial); a second revocation is a no-op. */
export async function publishRevocation(
  target: PkiTarget,
  ca: CaSigner,
  serial: string,
  opts: { reason?: string; revokedAt?: number } = {},
): Promise<PublishResult> {
  assertCaUsable(ca);
  const log = pkiLogOf(target);
  const s = normaliseSerial(serial);
  const event: CertificateRevoked = { type: 'CertificateRevoked', v: 1, serial: s, revokedAt: opts.revokedAt ?? Date.now() };
  if (opts.reason !== undefined && opts.reason !== '') event.reason = opts.reason;
  const last = await lastEvent(log, pkiEventSubject(event));
  if (last && last.event.type === 'CertificateRevoked' && last.kid === ca.im.serial) return { seq: last.seq, published: false };
  return publish(log, event, signPkiEvent(event, ca.imKey, ca.im.serial), `revoked-${s}`);
}

function pkiLogOf(target: PkiTarget): PkiLog {
  return target instanceof PkiLog ? target : new PkiLog(target);
}

async function publish(log: PkiLog, event: PkiEvent, jws: string, msgID: string): Promise<PublishResult> {
  const ack = await log.append(event, jws, msgID);
  return { seq: ack.seq, published: !ack.duplicate };
}

/** The last well-formed signed event on `subject` (not verified: used only to skip republishing). */
async function lastEvent(log: PkiLog, subject: string): Promise<{ seq: number; kid: string; event: PkiEvent } | undefined> {
  const last = await log.last(subject);
  if (!last) return undefined;
  try {
    const { kid, event } = readPkiJws(last.jws);
    return { seq: last.seq, kid, event };
  } catch {
    return undefined;
  }
}

function sameCert(a: string, b: string): boolean {
  try {
    return parseCertificate(a).pem === parseCertificate(b).pem;
  } catch {
    return false;
  }
}
