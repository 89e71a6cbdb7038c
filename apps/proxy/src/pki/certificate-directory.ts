/**
 * Peer certificates, trusted only from CA-signed directory events that this proxy verifies itself against
 * its pinned root (ROOTCERT_FILE): the broker is storage and transport here, not an authority. The proxy
 * fetches the signed events (`GET /v1/pki/events?after=<seq>`) and folds them with the same reducer as the
 * broker (@beamline/pki `PkiDirectory`): every unretired root-signed intermediate, certificates checked
 * against the one that issued them, revocations final once seen. Refreshed every CERT_REFRESH (60 s) and on a
 * miss (at most once a second); every CERT_RESYNC the whole directory is read again, so a broker that skipped
 * an event once cannot hide it for longer. A broker can delay a revocation by withholding it, but cannot
 * undo one this proxy has seen. A renewed certificate of our own is picked up the same way.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createPublicKey } from 'node:crypto';
import { type CertInfo } from '@beamline/crypto';
import { PkiDirectory } from '@beamline/pki';
import { BrokerClient } from '../broker/broker-client';
import { ProxyIdentity } from '../broker/proxy-identity';
import { PROXY_CONFIG, type ProxyConfig } from '../config';

interface SignedPkiEvent {
  seq: number;
  subject: string;
  jws: string;
}

const MIN_REFRESH_GAP_MS = 1_000;

@Injectable()
export class CertificateDirectory implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Certificates');
  private readonly directory: PkiDirectory;
  private afterSeq = 0;
  private lastFullRead = 0;
  /** The directory's certificates whose chain verified when they were last folded in (dates and revocation are checked at use). */
  private bySerial = new Map<string, CertInfo>();
  private lastRefresh = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly broker: BrokerClient,
    private readonly identity: ProxyIdentity,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {
    this.directory = new PkiDirectory(config.rootCertPem);
  }

  onApplicationBootstrap(): void {
    void this.initialise();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** True once this proxy's own certificate was found in the directory (it can then sign requests). */
  get ready(): boolean {
    return this.identity.serial !== undefined;
  }

  /** The newest valid certificate of `proxyId`, refreshing the cache once on a miss. */
  async forProxy(proxyId: string): Promise<CertInfo | undefined> {
    return this.lookup(() => this.newestFor(proxyId), false);
  }

  /**
   * The certificate `serial` while it is valid and trusted. A serial the directory has never seen waits for the
   * next refresh (a peer re-enrolled a moment ago signs with it); a known one that is revoked, expired or
   * untrusted does not: a refresh cannot make it usable.
   */
  async bySerialNumber(serial: string): Promise<CertInfo | undefined> {
    const unseen = this.directory.get(serial) === undefined && !this.directory.isRevoked(serial);
    return this.lookup(() => {
      const cert = this.bySerial.get(serial);
      return cert && this.usable(cert) ? cert : undefined;
    }, unseen);
  }

  /**
   * A miss refreshes the directory, at most once per MIN_REFRESH_GAP_MS. With `waitForNext`, a miss just after
   * a refresh waits for the next one rather than giving up at once (without, it gives up); a refresh that ended
   * after the miss already holds what the broker knew then.
   */
  private async lookup(find: () => CertInfo | undefined, waitForNext: boolean): Promise<CertInfo | undefined> {
    const hit = find();
    if (hit) return hit;
    const missedAt = Date.now();
    const gap = this.lastRefresh + MIN_REFRESH_GAP_MS - missedAt;
    if (gap > 0) {
      if (!waitForNext) return undefined;
      await new Promise((r) => setTimeout(r, gap));
    }
    if (this.lastRefresh <= missedAt) await this.refresh().catch((err) => this.logger.warn(`directory refresh failed: ${String(err)}`));
    return find();
  }

  private async initialise(): Promise<void> {
    let delay = 250;
    while (!this.stopped && !this.ready) {
      try {
        await this.refresh();
        if (!this.ready) this.logger.warn(`no valid certificate for ${this.identity.proxyId} matching PRIVKEY_FILE in the directory yet`);
      } catch (err) {
        this.logger.warn(`broker directory unavailable, retrying: ${String((err as Error).message ?? err)}`);
      }
      if (!this.ready) await new Promise((r) => setTimeout(r, (delay = Math.min(delay * 2, 5_000))));
    }
    if (this.ready) this.logger.log(`ready: ${this.identity.proxyId} signs with certificate ${this.identity.serial}`);
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.refresh()
        .catch((err) => this.logger.warn(`directory refresh failed: ${String(err)}`))
        .finally(() => this.schedule());
    }, this.config.certRefreshMs);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.inFlight ??= this.load().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  /** For health: revocations seen, directory events held for an unknown signer, and those turned away (buffer full). */
  get pkiState(): { revoked: number; held: number; dropped: number } {
    return { revoked: this.directory.revocationCount, ...this.directory.heldEvents };
  }

  private async load(): Promise<void> {
    const fullRead = Date.now() - this.lastFullRead >= this.config.certResyncMs;
    const after = fullRead ? 0 : this.afterSeq;
    const res = this.broker.expect(await this.broker.send('GET', `/v1/pki/events?after=${after}`, undefined, { anonymous: true }), 200);
    const events = signedEventsOf(res.body);
    let changed = false;
    for (const e of events) {
      const result = this.directory.applySigned(e.subject, e.jws);
      if (result.accepted) changed = true;
      else if (!result.held) this.logger.warn(`ignoring directory event #${e.seq} on ${e.subject}: ${result.reason}`);
      this.afterSeq = Math.max(this.afterSeq, e.seq);
    }
    if (fullRead) this.lastFullRead = Date.now();
    // Chains are verified again on every full read too: an intermediate's end, or a retirement's signed time, may have passed since.
    if (changed || fullRead) this.bySerial = this.verifiedCertificates();
    this.lastRefresh = Date.now();
    this.identity.serial = this.findOwnSerial();
  }

  private verifiedCertificates(): Map<string, CertInfo> {
    const now = Date.now();
    const verified = new Map<string, CertInfo>();
    for (const cert of this.directory.all()) {
      if (this.directory.isRevoked(cert.serial)) continue;
      try {
        verified.set(cert.serial, this.directory.verify(cert, now, cert.commonName));
      } catch (err) {
        this.logger.warn(`rejecting certificate ${cert.serial} (${cert.commonName}): ${String((err as Error).message)}`);
      }
    }
    return verified;
  }

  private findOwnSerial(): string | undefined {
    const own = createPublicKey(this.identity.privateKey);
    const mine = [...this.bySerial.values()].filter((c) => c.commonName === this.identity.proxyId && c.publicKey.equals(own) && this.usable(c));
    mine.sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime());
    return mine[0]?.serial;
  }

  private newestFor(proxyId: string): CertInfo | undefined {
    let best: CertInfo | undefined;
    for (const cert of this.bySerial.values()) {
      if (cert.commonName === proxyId && this.usable(cert) && (!best || cert.notBefore > best.notBefore)) best = cert;
    }
    return best;
  }

  /** Within its dates and not revoked now (a revocation folded in since the last verification counts at once). */
  private usable(cert: CertInfo): boolean {
    const now = Date.now();
    return cert.notBefore.getTime() <= now && now <= cert.notAfter.getTime() && !this.directory.isRevoked(cert.serial);
  }
}

/** The body of `GET /v1/pki/events`, checked for shape only (the signatures are checked when folded in). */
function signedEventsOf(body: unknown): SignedPkiEvent[] {
  const events = (body as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) throw new Error('GET /v1/pki/events: the broker answered without an events list');
  return events.filter(
    (e): e is SignedPkiEvent =>
      typeof e === 'object' && e !== null && Number.isSafeInteger(e.seq) && typeof e.subject === 'string' && typeof e.jws === 'string',
  );
}
