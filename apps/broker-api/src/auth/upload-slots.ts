/**
 * How many request bodies each proxy may have in flight at once. A body is buffered whole (up to the body
 * limit, 30 MiB) before its digest can be checked, so without a bound one enrolled proxy could fill the
 * broker's memory. Counted per authenticated proxy, never per client address: a load balancer puts every
 * proxy behind one address.
 */
import { Injectable } from '@nestjs/common';
import { TooManyRequests } from '@beamline/domain';
import { brokerConfig } from '../config';

@Injectable()
export class UploadSlots {
  private readonly perProxy = brokerConfig().maxUploadsPerProxy;
  private readonly inFlight = new Map<string, number>();

  /** Runs `read` in one of the proxy's slots; TooManyRequests (429) when all of them are taken. */
  async run<T>(proxyId: string, read: () => Promise<T>): Promise<T> {
    const taken = this.inFlight.get(proxyId) ?? 0;
    if (taken >= this.perProxy) {
      throw new TooManyRequests(`body: ${proxyId} already has ${taken} uploads in flight (MAX_UPLOADS_PER_PROXY=${this.perProxy})`, 'too_many_uploads');
    }
    this.inFlight.set(proxyId, taken + 1);
    try {
      return await read();
    } finally {
      const left = (this.inFlight.get(proxyId) ?? 1) - 1;
      if (left > 0) this.inFlight.set(proxyId, left);
      else this.inFlight.delete(proxyId);
    }
  }
}
