import { Inject, Controller, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { Response } from 'express';
import { newSessionId, sessionKeyFor, wrapSessionKey } from '@beamline/crypto';
import { Unauthenticated } from '@beamline/domain';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { ProxyAuthGuard, type AuthenticatedProxy, type ProxyRequest } from './proxy-auth.guard';
import { SessionSecret } from './session-secret';
import { sessionsOpened } from '../monitoring/broker-metrics';

/**
 * `POST /v1/sessions`: a proxy that proved its key with a request signature gets a session: its id and
 * key, the key wrapped for the proxy's certificate. Sessions live `SESSION_TTL` (default 1 h) and die with
 * the certificate they were opened with.
 */
@Controller('v1/sessions')
@UseGuards(ProxyAuthGuard)
export class SessionsController {
  constructor(
    private readonly registry: CertificateRegistry,
    private readonly secret: SessionSecret,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  @Post()
  async open(@Req() req: ProxyRequest, @Res() res: Response): Promise<void> {
    const proxy = req.proxy as AuthenticatedProxy;
    if (proxy.viaSession) throw new Unauthenticated('session: open a session with a request signature, not with another session', 'signature_required');
    const cert = this.registry.validBySerial(proxy.serial);
    const expiresAt = Math.min(Date.now() + this.config.sessionTtlMs, cert.notAfter.getTime());
    const sessionId = newSessionId({ proxyId: proxy.proxyId, serial: proxy.serial, expiresAt });
    const key = sessionKeyFor(this.secret.get(), sessionId);
    res.status(201).json({ session_id: sessionId, wrapped_key: wrapSessionKey(key, cert.publicKey), expires_at: expiresAt });
    sessionsOpened.inc();
  }
}
