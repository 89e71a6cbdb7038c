/** At most MAX_WAITING_PER_APP long-polls and event streams open per app at this proxy; then 429. */
import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { TooManyRequests } from '@beamline/domain';
import { KeyedLimit, WaitingCap } from '@beamline/http';
import { callerOf, type AppRequest } from '../auth/api-key.guard';
import { PROXY_CONFIG, type ProxyConfig } from '../config';

/** The slots, one set per proxy process (a provider, so every controller shares it). */
@Injectable()
export class WaitingApps extends KeyedLimit {
  constructor(@Inject(PROXY_CONFIG) config: ProxyConfig) {
    const max = config.maxWaitingPerApp;
    super(
      max,
      (app, taken) =>
        new TooManyRequests(`waiting: ${app} already has ${taken} long-polls or event streams open (MAX_WAITING_PER_APP=${max})`, 'too_many_waiting'),
    );
  }
}

@Injectable()
export class AppWaitingCap extends WaitingCap {
  constructor(limit: WaitingApps) {
    super(limit);
  }

  protected keyOf(req: Request): string {
    return callerOf(req as AppRequest);
  }
}
