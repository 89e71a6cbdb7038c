/**
 * The secret all broker-api replicas derive session keys from: `SESSION_SECRET` or `SESSION_SECRET_FILE`,
 * required at start-up (auth/session-secret-setting.ts) and the same on every replica, so a session opened on
 * one replica is valid on all. It is never written to NATS.
 */
import { Inject, Injectable } from '@nestjs/common';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

@Injectable()
export class SessionSecret {
  constructor(@Inject(BROKER_CONFIG) private readonly config: BrokerConfig) {}

  get(): Buffer {
    return this.config.sessionSecret;
  }
}
