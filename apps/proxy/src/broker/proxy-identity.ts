import { Inject, Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { messageDigestKey } from '@beamline/crypto';
import { BrokerUnavailable } from '@beamline/domain';
import { PROXY_CONFIG, type ProxyConfig } from '../config';

/** This proxy's identity: its id, private key, and the serial of its current certificate once known. */
@Injectable()
export class ProxyIdentity {
  readonly proxyId: string;
  readonly privateKey: KeyObject;
  readonly digestKey: Buffer;
  serial: string | undefined;

  constructor(@Inject(PROXY_CONFIG) config: ProxyConfig) {
    this.proxyId = config.proxyId;
    this.privateKey = config.privateKey;
    this.digestKey = messageDigestKey(this.privateKey);
  }

  /** The serial to sign with, or a 502 explaining that this proxy has no valid certificate of its own. */
  requireSerial(): string {
    if (this.serial) return this.serial;
    throw new BrokerUnavailable(
      `proxy: no valid certificate for ${this.proxyId} in the broker's directory (not yet published, expired or revoked)`,
      'no_certificate',
    );
  }
}
