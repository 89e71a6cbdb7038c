/**
 * The signer check of `beamline audit verify`, one for every signed event (TaskCreated, ResultPut,
 * SocketRequested): the message's kid names a directory certificate that chains to the pinned root and was
 * valid and not revoked at the event's *stored* time, its signature verifies, and the signer may sign for the
 * message's `from`.
 *
 * Why the stored time, not the event's `receivedAt`: `receivedAt` is the broker's unsigned word, and anyone who
 * can publish to BEAM_EVENTS (or BEAM_AUDIT) writes it. Judged at `receivedAt`, a holder of a revoked or expired
 * key could backdate new events to before the revocation and pass. The time BEAM_AUDIT stored the copy is
 * assigned by nats-server when it stores the message; no publisher chooses it, and it is never earlier than the
 * broker's receipt of an honest event (the copy follows the append). The messages themselves carry no signed
 * time that could narrow it. So a revocation applies to every event stored after the revocation's time.
 */
import { isCryptoError, readJwsKid, verifyMessage, type CertInfo } from '@beamline/crypto';
import { canSignFor } from '@beamline/domain';
import type { PkiDirectory } from '@beamline/pki';

/** The CA-signed directory and when each revoked serial was revoked (ms, the CA's signed time). */
export interface SignerDirectory {
  directory: PkiDirectory;
  revokedAt: ReadonlyMap<string, number>;
}

/** When the event is judged: `storedAt` (the audit stream's own time); `receivedAt` is only named in reasons. */
export interface JudgedAt {
  storedAt: number;
  receivedAt: number;
}

export type SignedMessageCheck = { payload: Record<string, unknown>; signer: CertInfo } | { reason: string };

const iso = (ms: number): string => new Date(ms).toISOString();

/** What an unsigned `receivedAt` claims, when it claims a different time than the stored one. */
function claimed(at: JudgedAt): string {
  return at.receivedAt === at.storedAt ? '' : ` (the event claims it was received at ${iso(at.receivedAt)})`;
}

/** The signer certificate named by `message`'s kid, if it was trustworthy at `at.storedAt`; else why not. */
function signerAt({ directory, revokedAt }: SignerDirectory, message: string, at: JudgedAt): { kid: string; signer: CertInfo } | { reason: string } {
  let kid: string;
  try {
    kid = readJwsKid(message);
  } catch (err) {
    return { reason: `message is not a signed message: ${(err as Error).message}` };
  }
  const cert = directory.get(kid);
  if (!cert) return { reason: `signed with certificate ${kid}, which is not in the CA-signed directory` };
  const stored = `when BEAM_AUDIT stored the event at ${iso(at.storedAt)}${claimed(at)}`;
  let signer: CertInfo;
  try {
    signer = directory.verify(cert, at.storedAt);
  } catch (err) {
    const what = isCryptoError(err, 'expired') || isCryptoError(err, 'not_yet_valid') ? 'was not valid' : 'is not trusted';
    return { reason: `signer certificate ${kid} (${cert.commonName}) ${what} ${stored}: ${(err as Error).message}` };
  }
  const revoked = revokedAt.get(kid);
  if (revoked !== undefined && revoked <= at.storedAt)
    return {
      reason: `signer certificate ${kid} (${cert.commonName}) was revoked at ${iso(revoked)}, before BEAM_AUDIT stored the event at ${iso(at.storedAt)}${claimed(at)}`,
    };
  return { kid, signer };
}

/** Checks a signed message (compact JWS) as the receiving proxy would have, at the event's stored time. */
export async function checkSignedMessage(dir: SignerDirectory, message: string, at: JudgedAt): Promise<SignedMessageCheck> {
  const found = signerAt(dir, message, at);
  if ('reason' in found) return found;
  const { kid, signer } = found;
  let payload: Record<string, unknown>;
  try {
    const p = await verifyMessage<unknown>(message, signer.publicKey);
    if (typeof p !== 'object' || p === null || Array.isArray(p)) return { reason: 'signed payload is not a JSON object' };
    payload = p as Record<string, unknown>;
  } catch (err) {
    return { reason: `signature does not verify with certificate ${kid} (${signer.commonName}): ${(err as Error).message}` };
  }
  if (typeof payload.from !== 'string' || !canSignFor(signer.commonName, payload.from))
    return { reason: `signer ${signer.commonName} cannot sign for from=${JSON.stringify(payload.from)}` };
  return { payload, signer };
}
