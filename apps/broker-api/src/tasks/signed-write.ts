/** What every write of a signed message needs: the log, the signature check, and the write path's side effects. */
import { Inject } from '@nestjs/common';
import { InvalidInput } from '@beamline/domain';
import { EventLog } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { CertificateRegistry } from '../pki/certificate-registry';
import { ProxyQuotas } from '../quotas/proxy-quotas';
import { StorageMonitor } from '../storage/storage-monitor';
import { SignedMessageVerifier } from './signed-message.verifier';
import { Wakeups } from './wakeups';

export abstract class SignedWrite {
  constructor(
    @Inject(EventLog) protected readonly log: EventLog,
    protected readonly verifier: SignedMessageVerifier,
    protected readonly registry: CertificateRegistry,
    protected readonly wakeups: Wakeups,
    protected readonly storage: StorageMonitor,
    protected readonly quotas: ProxyQuotas,
    @Inject(BROKER_CONFIG) protected readonly config: BrokerConfig,
  ) {}

  /**
   * A message's signed creation time must be within MAX_CLOCK_SKEW of broker time, as its request's is: a task is
   * not born expired, nor does a future-dated result win over later ones. Receiving proxies check again.
   */
  protected assertSealedNow(created: number): void {
    const offMs = created - Date.now();
    if (Math.abs(offMs) > this.config.maxClockSkewMs) {
      throw new InvalidInput(`created: the message was sealed ${offMs} ms off broker time (MAX_CLOCK_SKEW ${this.config.maxClockSkewMs} ms)`, 'stale_message');
    }
  }
}
