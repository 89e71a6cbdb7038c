/**
 * The proxy's session with the broker: opened once with a signed request (one RSA unwrap here), then every
 * request is authenticated with a MAC under the session key instead of a signature. Renewed shortly before
 * it expires; dropped and reopened when the broker refuses it (certificate renewed, broker secret rotated).
 */
import { Injectable, Logger } from '@nestjs/common';
import { macRequest, unwrapSessionKey, type RequestToSign } from '@beamline/crypto';
import { ProxyIdentity } from './proxy-identity';

export interface Session {
  id: string;
  key: Buffer;
  expiresAt: number;
}

/** How the session is opened: a signed POST to the broker's /v1/sessions (provided by BrokerClient). */
export type SessionOpener = () => Promise<{ session_id: string; wrapped_key: string; expires_at: number }>;

const RENEW_BEFORE_MS = 60_000;

@Injectable()
export class BrokerSession {
  private readonly logger = new Logger('BrokerSession');
  private current: Session | undefined;
  private opening: Promise<Session> | undefined;

  constructor(private readonly identity: ProxyIdentity) {}

  /** The `Authorization` header for `req` within a live session, opening one first if needed. */
  async authorize(req: RequestToSign, open: SessionOpener): Promise<string> {
    const session = this.live() ?? (await this.open(open));
    return macRequest(req, session);
  }

  /** Forgets the session, so the next request opens a new one. */
  drop(): void {
    this.current = undefined;
  }

  private live(): Session | undefined {
    const s = this.current;
    return s && s.expiresAt - RENEW_BEFORE_MS > Date.now() ? s : undefined;
  }

  private open(open: SessionOpener): Promise<Session> {
    this.opening ??= (async () => {
      const grant = await open();
      const session = { id: grant.session_id, key: unwrapSessionKey(grant.wrapped_key, this.identity.privateKey), expiresAt: grant.expires_at };
      this.current = session;
      this.logger.debug(`session opened, valid until ${new Date(session.expiresAt).toISOString()}`);
      return session;
    })().finally(() => (this.opening = undefined));
    return this.opening;
  }
}
