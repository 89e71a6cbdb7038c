/**
 * Authenticates the calling proxy, by one of two schemes:
 * - `BeamlineSig`: a request signature that verifies against a valid, unrevoked directory certificate;
 * - `BeamlineMac`: a MAC under a session key (see libs/crypto session-auth) of a live session opened with
 *   such a signature, whose certificate is still valid — no private-key operation per request.
 * Both bind method, path, query and body, must be fresh, and carry a nonce never seen before by any
 * replica. The proxy's identity is the certificate's CN.
 *
 * Headers first, body second: everything the headers can prove (certificate, signature or MAC, time window,
 * nonce) is checked before a byte of the body is read — the signature and the MAC bind the body's digest,
 * which a session request also carries in `Beam-Body-Digest`. Only then is the body read (up to the body
 * limit, in one of the proxy's upload slots) and checked against that digest. A request whose headers do
 * not authenticate is answered at once, and its body is never buffered.
 */
import { Inject, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import {
  assertBodyDigest,
  BODY_DIGEST_HEADER,
  CryptoError,
  isSessionAuth,
  readMacAuth,
  readRequestAuth,
  readSessionId,
  requestBodyDigest,
  sessionKeyFor,
  verifyMacRequest,
  verifyRequestHead,
} from '@beamline/crypto';
import { Unauthenticated } from '@beamline/domain';
import { hasBody, readBody } from '@beamline/http';
import { NonceStore } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { SessionSecret } from './session-secret';
import { UploadSlots } from './upload-slots';

export interface AuthenticatedProxy {
  proxyId: string;
  serial: string;
  /** True when the request was authenticated by a session MAC rather than a signature. */
  viaSession: boolean;
}

export type ProxyRequest = Request & {
  proxy?: AuthenticatedProxy;
  /** On a route with a streamed body: the digest the authentication bound, for the handler to check as it reads. */
  streamedBodyDigest?: string;
};

const STREAMED_BODY = 'beamline:streamed-body';

/**
 * Marks a route whose handler reads the body itself, streamed, and checks it against `req.streamedBodyDigest`
 * (blob uploads of up to 72 MiB, which are never buffered whole). Everything else is checked as for any route.
 */
export const StreamedBody = (): MethodDecorator => SetMetadata(STREAMED_BODY, true);

const EMPTY_BODY_DIGEST = requestBodyDigest(undefined);

@Injectable()
export class ProxyAuthGuard implements CanActivate {
  constructor(
    private readonly registry: CertificateRegistry,
    private readonly nonces: NonceStore,
    private readonly sessions: SessionSecret,
    private readonly uploads: UploadSlots,
    private readonly reflector: Reflector,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const req = ctx.switchToHttp().getRequest<ProxyRequest>();
    const header = req.headers.authorization;
    const head = { method: req.method, pathAndQuery: req.originalUrl };
    const now = Date.now();
    const window = { now, maxSkewMs: this.config.maxClockSkewMs };
    let nonce: string;
    let bodyDigest: string;
    if (isSessionAuth(header)) {
      const { sessionId } = readMacAuth(header);
      const claims = readSessionId(sessionId);
      if (claims.expiresAt <= now) throw new Unauthenticated('session: expired, open a new one', 'session_expired');
      const cert = this.registry.validBySerial(claims.serial, now);
      if (cert.commonName !== claims.proxyId) throw new Unauthenticated('session: certificate does not match the session');
      bodyDigest = claimedBodyDigest(req);
      nonce = verifyMacRequest(header as string, { ...head, bodyDigest }, sessionKeyFor(this.sessions.get(), sessionId), window).nonce;
      req.proxy = { proxyId: cert.commonName, serial: cert.serial, viaSession: true };
    } else {
      const { kid } = readRequestAuth(header);
      const cert = this.registry.validBySerial(kid, now);
      const verified = await verifyRequestHead(header as string, head, cert.publicKey, window);
      if (verified.proxyId !== cert.commonName) throw new Unauthenticated(`request: issuer ${verified.proxyId} does not match certificate ${cert.commonName}`);
      nonce = verified.nonce;
      bodyDigest = verified.bodyDigest;
      req.proxy = { proxyId: cert.commonName, serial: cert.serial, viaSession: false };
    }
    if (!(await this.nonces.claim(nonce))) throw new Unauthenticated('request: nonce already used (replay)', 'replayed');
    // Socket upgrades authenticate outside Nest's routing, with no handler to carry the mark.
    const handler = typeof ctx.getHandler === 'function' ? ctx.getHandler() : undefined;
    if (handler && this.reflector.get<boolean>(STREAMED_BODY, handler)) req.streamedBodyDigest = bodyDigest;
    else await this.takeBody(req, req.proxy.proxyId, bodyDigest);
    return true;
  }

  /** Reads the body of an authenticated request and checks it against the digest its headers bound. */
  private async takeBody(req: ProxyRequest, proxyId: string, digest: string): Promise<void> {
    if (!hasBody(req)) {
      assertBodyDigest(undefined, digest);
      return;
    }
    const body = await this.uploads.run(proxyId, () => readBody(req, this.config.bodyLimitBytes));
    assertBodyDigest(body, digest);
  }
}

/** The body digest a session request declares; a request without a body needs none. */
function claimedBodyDigest(req: Request): string {
  const declared = req.headers[BODY_DIGEST_HEADER];
  if (typeof declared === 'string') {
    if (!/^[A-Za-z0-9_-]{43}$/.test(declared)) throw new CryptoError('malformed', `${BODY_DIGEST_HEADER}: expected a base64url SHA-256`);
    return declared;
  }
  if (hasBody(req)) throw new CryptoError('malformed', `${BODY_DIGEST_HEADER}: required on a session request with a body`);
  return EMPTY_BODY_DIGEST;
}
