/**
 * Verifies a sender's signed message on ingest: the signature must verify against a valid directory
 * certificate, and that certificate must belong to the proxy that sent the request and be able to sign
 * for the message's `from` (label boundary).
 */
import { Injectable } from '@nestjs/common';
import { readJwsKid, verifyMessage } from '@beamline/crypto';
import { canSignFor, InvalidInput, Unauthenticated } from '@beamline/domain';
import type { AuthenticatedProxy } from '../auth/proxy-auth.guard';
import { CertificateRegistry } from '../pki/certificate-registry';

@Injectable()
export class SignedMessageVerifier {
  constructor(private readonly registry: CertificateRegistry) {}

  async verify(message: unknown, sender: AuthenticatedProxy): Promise<unknown> {
    if (typeof message !== 'string') throw new InvalidInput('message: expected a compact JWS string');
    const cert = this.registry.validBySerial(readJwsKid(message));
    if (cert.commonName !== sender.proxyId) throw new Unauthenticated(`message: signed by ${cert.commonName}, sent by ${sender.proxyId}`, 'signer_mismatch');
    return verifyMessage(message, cert.publicKey);
  }

  /** Throws unless the verified signer may speak for `from`. */
  assertCanSignFor(sender: AuthenticatedProxy, from: string): void {
    if (!canSignFor(sender.proxyId, from)) throw new Unauthenticated(`from: ${sender.proxyId} cannot sign for ${from}`, 'signer_mismatch');
  }
}
