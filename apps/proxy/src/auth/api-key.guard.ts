/** Authenticates apps with `Authorization: ApiKey <AppId> <key>` (keys compared in constant time). */
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { Unauthenticated } from '@beamline/domain';
import { PROXY_CONFIG, type ProxyConfig } from '../config';

export type AppRequest = Request & { app_id?: string };

@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly keys: Map<string, Buffer>;

  constructor(@Inject(PROXY_CONFIG) config: ProxyConfig) {
    this.keys = config.apiKeys;
  }

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AppRequest>();
    const m = /^ApiKey\s+(\S+)\s+(.+)$/.exec(req.headers.authorization ?? '');
    if (!m) throw new Unauthenticated('Authorization: expected "ApiKey <AppId> <key>"');
    const expected = this.keys.get(m[1]);
    const given = createHash('sha256').update(m[2].trim()).digest();
    // Compare even for unknown apps so timing does not reveal which app ids exist.
    const ok = timingSafeEqual(given, expected ?? Buffer.alloc(32)) && expected !== undefined;
    if (!ok) throw new Unauthenticated('Authorization: unknown app or wrong key');
    req.app_id = m[1];
    return true;
  }
}

export function callerOf(req: AppRequest): string {
  return req.app_id as string;
}
