/**
 * Peer certificates, fetched from the broker's directory and trusted only after validating chain (to the
 * pinned root), dates, name and revocation here, at the proxy. Cached; refreshed every 60 s and on a miss
 * (at most once a second), so new and revoked certificates take effect without a restart (`CERT_REFRESH`,
 * default 60 s). A renewed certificate of our own is picked up the same way and signs from then on.
 */
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { createPublicKey } from 'node:crypto';
import { verifyCertificate, type CertInfo } from '@beamline/crypto';
import { BrokerClient } from '../broker/broker-client';
import { ProxyIdentity } from '../broker/proxy-identity';
import { PROXY_CONFIG, type ProxyConfig } from '../config';

interface DirectoryEntry {
  serial: string;
  proxyId: string;
  pem: string;
  revoked: boolean;
}

const MIN_REFRESH_GAP_MS = 1_000;

@Injectable()
export class CertificateDirectory implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Certificates');
  private imCertPem: string | undefined;
  private bySerial = new Map<string, CertInfo>();
  private lastRefresh = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly broker: BrokerClient,
    private readonly identity: ProxyIdentity,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {}

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
    return this.lookup(() => this.newestFor(proxyId));
  }

  async bySerialNumber(serial: string): Promise<CertInfo | undefined> {
    return this.lookup(() => {
      const cert = this.bySerial.get(serial);
      return cert && this.stillValid(cert) ? cert : undefined;
    });
  }

  private async lookup(find: () => CertInfo | undefined): Promise<CertInfo | undefined> {
    const hit = find();
    if (hit || Date.now() - this.lastRefresh < MIN_REFRESH_GAP_MS) return hit;
    await this.refresh().catch((err) => this.logger.warn(`directory refresh failed: ${String(err)}`));
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

  private async load(): Promise<void> {
    const im = this.broker.expect(await this.broker.send('GET', '/v1/pki/certs/im-ca', undefined, { anonymous: true }), 200);
    const list = this.broker.expect(await this.broker.send('GET', '/v1/pki/certs', undefined, { anonymous: true }), 200);
    this.imCertPem = String(im.body);
    const now = Date.now();
    const next = new Map<string, CertInfo>();
    for (const entry of list.body as DirectoryEntry[]) {
      if (entry.revoked) continue;
      try {
        next.set(
          entry.serial,
          verifyCertificate(entry.pem, { imCertPem: this.imCertPem, rootCertPem: this.config.rootCertPem }, { now, expectedCn: entry.proxyId }),
        );
      } catch (err) {
        this.logger.warn(`rejecting certificate ${entry.serial} (${entry.proxyId}): ${String((err as Error).message)}`);
      }
    }
    this.bySerial = next;
    this.lastRefresh = Date.now();
    this.identity.serial = this.findOwnSerial();
  }

  private findOwnSerial(): string | undefined {
    const own = createPublicKey(this.identity.privateKey);
    const mine = [...this.bySerial.values()].filter((c) => c.commonName === this.identity.proxyId && c.publicKey.equals(own) && this.stillValid(c));
    mine.sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime());
    return mine[0]?.serial;
  }

  private newestFor(proxyId: string): CertInfo | undefined {
    let best: CertInfo | undefined;
    for (const cert of this.bySerial.values()) {
      if (cert.commonName === proxyId && this.stillValid(cert) && (!best || cert.notBefore > best.notBefore)) best = cert;
    }
    return best;
  }

  private stillValid(cert: CertInfo): boolean {
    const now = Date.now();
    return cert.notBefore.getTime() <= now && now <= cert.notAfter.getTime();
  }
}
