/**
 * At most MAX_WAITING_PER_PROXY long-polls and event streams open per proxy at this broker-api replica; then
 * 429. Per authenticated proxy, never per address (a load balancer puts every proxy behind one).
 */
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { TooManyRequests } from '@beamline/domain';
import { KeyedLimit, WaitingCap } from '@beamline/http';
import type { ProxyRequest } from '../auth/proxy-auth.guard';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

/** The slots, one set per replica (a provider, so every controller shares it). */
@Injectable()
export class WaitingProxies extends KeyedLimit {
  constructor(@Inject(BROKER_CONFIG) config: BrokerConfig) {
    const max = config.maxWaitingPerProxy;
    super(
      max,
      (proxyId, taken) =>
        new TooManyRequests(
          `waiting: ${proxyId} already has ${taken} long-polls or event streams open at this replica (MAX_WAITING_PER_PROXY=${max})`,
          'too_many_waiting',
        ),
    );
  }
}

@Injectable()
export class ProxyWaitingCap extends WaitingCap {
  constructor(limit: WaitingProxies) {
    super(limit);
  }

  protected keyOf(req: Request): string {
    return (req as ProxyRequest).proxy?.proxyId ?? '';
  }
}
