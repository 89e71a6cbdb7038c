/**
 * Authenticates the calling proxy: the `BeamlineSig` request signature must verify against a valid,
 * unrevoked certificate from the directory, bind this method, path, query and body, be fresh, and carry a
 * nonce never seen before. The proxy's identity is the certificate's CN.
 */
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { readRequestAuth, verifyRequest } from '@beamline/crypto';
import { Unauthenticated } from '@beamline/domain';
import { bodyBytes } from '@beamline/http';
import { brokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { NonceStore } from './nonce-store';

export interface AuthenticatedProxy {
  proxyId: string;
  serial: string;
}

export type ProxyRequest = Request & { proxy?: AuthenticatedProxy };

@Injectable()
export class ProxyAuthGuard implements CanActivate {
  constructor(private readonly registry: CertificateRegistry, private readonly nonces: NonceStore) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<ProxyRequest>();
    const { kid } = readRequestAuth(req.headers.authorization);
    const cert = this.registry.validBySerial(kid);
    const now = Date.now();
    const verified = await verifyRequest(
      req.headers.authorization as string,
      { method: req.method, pathAndQuery: req.originalUrl, body: bodyBytes(req) },
      cert.publicKey,
      { now, maxSkewMs: brokerConfig().maxClockSkewMs },
    );
    if (verified.proxyId !== cert.commonName) throw new Unauthenticated(`request: issuer ${verified.proxyId} does not match certificate ${cert.commonName}`);
    await this.nonces.claim(verified.nonce);
    req.proxy = { proxyId: cert.commonName, serial: cert.serial };
    return true;
  }
}
