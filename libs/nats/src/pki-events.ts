/** Certificate directory events on the BEAM_PKI stream. */
import type { JetStreamClient } from '@nats-io/jetstream';
import { encodeJson } from './codec';
import { subjects } from './subjects';

export interface CertificatePublished {
  type: 'CertificatePublished';
  v: 1;
  serial: string;
  pem: string;
}

export interface CertificateRevoked {
  type: 'CertificateRevoked';
  v: 1;
  serial: string;
  revokedAt: number;
}

/** The intermediate CA that issues proxy certificates; proxies check it against their pinned root. */
export interface IntermediatePublished {
  type: 'IntermediatePublished';
  v: 1;
  pem: string;
}

export type PkiEvent = CertificatePublished | CertificateRevoked | IntermediatePublished;

/** Publishes a certificate to the directory; republishing the same serial is idempotent. */
export async function publishCertificate(js: JetStreamClient, serial: string, pem: string): Promise<number> {
  const event: CertificatePublished = { type: 'CertificatePublished', v: 1, serial, pem };
  const ack = await js.publish(subjects.certificatePublished(serial), encodeJson(event), { msgID: `cert-${serial}` });
  return ack.seq;
}

export async function publishIntermediate(js: JetStreamClient, pem: string): Promise<number> {
  const event: IntermediatePublished = { type: 'IntermediatePublished', v: 1, pem };
  const ack = await js.publish(subjects.intermediatePublished, encodeJson(event));
  return ack.seq;
}

export function isPkiEvent(value: unknown): value is PkiEvent {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  if (v.v !== 1) return false;
  if (v.type === 'IntermediatePublished') return typeof v.pem === 'string';
  if (typeof v.serial !== 'string') return false;
  return (v.type === 'CertificatePublished' && typeof v.pem === 'string') || (v.type === 'CertificateRevoked' && typeof v.revokedAt === 'number');
}
