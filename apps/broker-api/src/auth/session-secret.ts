/**
 * The secret all broker-api replicas derive session keys from. `SESSION_SECRET` (hex or base64, ≥ 32 bytes)
 * when the operator sets one; otherwise the first replica creates a random one, once, in NATS KV and every
 * replica reads it from there. Either way a session opened on one replica is valid on all.
 */
import { Inject, Injectable } from '@nestjs/common';
import { SecretStore, SESSION_SECRET_KEY } from '@beamline/nats';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

const SECRET_BYTES = 32;

@Injectable()
export class SessionSecret {
  private secret: Promise<Buffer> | undefined;

  constructor(
    private readonly secrets: SecretStore,
    @Inject(BROKER_CONFIG) private readonly config: BrokerConfig,
  ) {}

  get(): Promise<Buffer> {
    this.secret ??= this.load().catch((err) => {
      this.secret = undefined;
      throw err;
    });
    return this.secret;
  }

  private async load(): Promise<Buffer> {
    const configured = this.config.sessionSecret;
    if (configured) return configured;
    const secret = await this.secrets.getOrCreate(SESSION_SECRET_KEY, SECRET_BYTES);
    if (!secret || secret.length < SECRET_BYTES) throw new Error('session secret missing from NATS KV');
    return secret;
  }
}
