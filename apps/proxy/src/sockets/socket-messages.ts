/**
 * Socket requests at the proxy: signs the initiator's request (with its fresh X25519 key inside), lists the
 * requests addressed to an app (verified like tasks), verifies a request before the recipient connects.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { readJwsKid, signMessage, verifyMessage, type CertInfo } from '@beamline/crypto';
import {
  canSignFor,
  formatRemainingTtl,
  parseSocketRequest,
  proxyIdOf,
  RecipientsWithoutCertificate,
  type SocketRequest,
  type WaitParams,
} from '@beamline/domain';
import { waitUntilShutdown } from '../broker/wait-until-shutdown';
import { BrokerClient, type BrokerResponse } from '../broker/broker-client';
import { ProxyIdentity } from '../broker/proxy-identity';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { CertificateDirectory } from '../pki/certificate-directory';
import { eventOfLine } from '../tasks/messages';

/** A socket request as apps see it (Samply.Beam's Socket Task). */
export interface SocketOutput {
  from: string;
  to: string[];
  id: string;
  ttl: string;
  metadata: unknown;
}

@Injectable()
export class SocketMessages {
  private readonly logger = new Logger('SocketMessages');
  private minSeq = 0;

  constructor(
    private readonly broker: BrokerClient,
    private readonly identity: ProxyIdentity,
    private readonly directory: CertificateDirectory,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {}

  /** Signs and registers a socket request at the broker. */
  async request(req: Omit<SocketRequest, 'ttl'>): Promise<void> {
    const proxy = proxyIdOf(req.to[0], this.config.brokerId, 'app id');
    if (!(await this.directory.forProxy(proxy))) throw new RecipientsWithoutCertificate([proxy]);
    const payload: SocketRequest = {
      id: req.id,
      from: req.from,
      to: req.to,
      ttl: `${Math.max(1, Math.round(this.config.socketTtlMs / 1000))}s`,
      metadata: req.metadata,
      eph: req.eph,
    };
    const message = await signMessage(payload, this.identity.privateKey, this.identity.requireSerial());
    this.noteSeq(this.broker.expect(await this.broker.send('POST', '/v1/sockets', { message }), 201));
  }

  async list(
    caller: string,
    raw: Record<string, string | undefined>,
    wait: WaitParams,
    signal: AbortSignal,
  ): Promise<{ items: SocketOutput[]; complete: boolean }> {
    const { value: res, cutShort } = await waitUntilShutdown(raw, wait, signal, (r, w, s) => {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(r)) if (v !== undefined) params.set(k, v);
      params.set('beam_app', caller);
      if (this.minSeq > 0) params.set('min_seq', String(this.minSeq));
      return this.broker.lines(`/v1/sockets?${params.toString()}`, { timeoutMs: w.waitMs + this.config.brokerTimeoutMs, signal: s });
    });
    const items: SocketOutput[] = [];
    for await (const line of res.lines) {
      try {
        const item = eventOfLine(line, 'SocketRequested');
        const r = await this.verified(item.message);
        if (!r.request.to.includes(caller)) throw new Error(`socket ${r.request.id} is not addressed to ${caller}`);
        items.push({
          from: r.request.from,
          to: r.request.to,
          id: r.request.id,
          ttl: formatRemainingTtl(item.expiresAt - Date.now()),
          metadata: r.request.metadata,
        });
      } catch (err) {
        this.logger.warn(`refusing a socket request: ${(err as Error).message}`);
      }
    }
    return { items, complete: res.status === 200 && !cutShort };
  }

  /** Verifies a signed socket request: signature, signer's right to speak for `from`; returns it with the signer's certificate. */
  async verified(jws: string): Promise<{ request: SocketRequest; signer: CertInfo }> {
    const kid = readJwsKid(jws);
    const cert = await this.directory.bySerialNumber(kid);
    if (!cert) throw new Error(`signer certificate ${kid} is unknown, invalid or revoked`);
    const request = parseSocketRequest(await verifyMessage(jws, cert.publicKey));
    if (!canSignFor(cert.commonName, request.from)) throw new Error(`${cert.commonName} cannot sign for ${request.from}`);
    return { request, signer: cert };
  }

  private noteSeq(res: BrokerResponse): void {
    const seq = Number(res.headers['beam-seq']);
    if (Number.isSafeInteger(seq) && seq > this.minSeq) this.minSeq = seq;
  }
}
