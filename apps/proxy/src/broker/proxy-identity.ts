import { Injectable } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { messageDigestKey } from '@beamline/crypto';
import { proxyConfig } from '../config';

/** This proxy's identity: its id, private key, and the serial of its current certificate once known. */
@Injectable()
export class ProxyIdentity {
  readonly proxyId = proxyConfig().proxyId;
  readonly privateKey: KeyObject = proxyConfig().privateKey;
  readonly digestKey = messageDigestKey(this.privateKey);
  serial: string | undefined;
}
