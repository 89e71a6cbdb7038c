import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { messageDigestKey } from '@beamline/crypto';
import { BrokerUnavailable } from '@beamline/domain';
import { proxyConfig } from '../config';

/** This proxy's identity: its id, private key, and the serial of its current certificate once known. */
@Injectable()
export class ProxyIdentity {
  readonly proxyId = proxyConfig().proxyId;
  readonly privateKey: KeyObject = proxyConfig().privateKey;
  readonly digestKey = messageDigestKey(this.privateKey);
  serial: string | undefined;

  /** The serial to sign with, or a 502 explaining that this proxy has no valid certificate of its own. */
  requireSerial(): string {
    if (this.serial) return this.serial;
    throw new BrokerUnavailable(
      `proxy: no valid certificate for ${this.proxyId} in the broker's directory (not yet published, expired or revoked)`,
      'no_certificate',
    );
  }
}
