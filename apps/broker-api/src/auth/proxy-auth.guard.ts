/**
 * Authenticates the calling proxy, by one of two schemes:
 * - `BeamlineSig`: a request signature that verifies against a valid, unrevoked directory certificate;
 * - `BeamlineMac`: a MAC under a session key (see libs/crypto session-auth) of a live session opened with
 *   such a signature, whose certificate is still valid — no private-key operation per request.
 * Both bind method, path, query and body, must be fresh, and carry a nonce never seen before by any
 * replica. The proxy's identity is the certificate's CN.
 */
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { isSessionAuth, readMacAuth, readRequestAuth, readSessionId, sessionKeyFor, verifyMacRequest, verifyRequest } from '@beamline/crypto';
import { Unauthenticated } from '@beamline/domain';
import { bodyBytes } from '@beamline/http';
import { brokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { NonceStore } from './nonce-store';
import { SessionSecret } from './session-secret';

export interface AuthenticatedProxy {
  proxyId: string;
  serial: string;
  /** True when the request was authenticated by a session MAC rather than a signature. */
  viaSession: boolean;
}

export type ProxyRequest = Request & { proxy?: AuthenticatedProxy };

@Injectable()
export class ProxyAuthGuard implements CanActivate {
  private readonly maxSkewMs = brokerConfig().maxClockSkewMs;

  constructor(private readonly registry: CertificateRegistry, private readonly nonces: NonceStore, private readonly sessions: SessionSecret) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<ProxyRequest>();
    const header = req.headers.authorization;
    const received = { method: req.method, pathAndQuery: req.originalUrl, body: bodyBytes(req) };
    const now = Date.now();
    let nonce: string;
    if (isSessionAuth(header)) {
      const { sessionId } = readMacAuth(header);
      const claims = readSessionId(sessionId);
      if (claims.expiresAt <= now) throw new Unauthenticated('session: expired, open a new one', 'session_expired');
      const cert = this.registry.validBySerial(claims.serial, now);
      if (cert.commonName !== claims.proxyId) throw new Unauthenticated('session: certificate does not match the session');
      nonce = verifyMacRequest(header as string, received, sessionKeyFor(await this.sessions.get(), sessionId), { now, maxSkewMs: this.maxSkewMs }).nonce;
      req.proxy = { proxyId: cert.commonName, serial: cert.serial, viaSession: true };
    } else {
      const { kid } = readRequestAuth(header);
      const cert = this.registry.validBySerial(kid, now);
      const verified = await verifyRequest(header as string, received, cert.publicKey, { now, maxSkewMs: this.maxSkewMs });
      if (verified.proxyId !== cert.commonName) throw new Unauthenticated(`request: issuer ${verified.proxyId} does not match certificate ${cert.commonName}`);
      nonce = verified.nonce;
      req.proxy = { proxyId: cert.commonName, serial: cert.serial, viaSession: false };
    }
    await this.nonces.claim(nonce);
    return true;
  }
}
