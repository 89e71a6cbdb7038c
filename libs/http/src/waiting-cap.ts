/**
 * A cap on clients that hold a connection open (long-polls, event streams) per participant: the handler of
 * such a request runs in one of its caller's slots, and the request beyond the cap is refused at once (429).
 * Each app provides the limit (its key: the app at a proxy, the proxy at the broker) as a singleton, so
 * every controller counts against the same slots.
 */
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import type { KeyedLimit } from './keyed-limit';
import { isWaitingRequest } from './waiting';

export abstract class WaitingCap implements NestInterceptor {
  constructor(private readonly limit: KeyedLimit) {}

  /** Whose slots a request counts against. */
  protected abstract keyOf(req: Request): string;

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<Request>();
    if (!isWaitingRequest(req)) return next.handle();
    return from(this.limit.run(this.keyOf(req), () => lastValueFrom(next.handle(), { defaultValue: undefined })));
  }
}
