/**
 * How many request bodies each proxy may have in flight at once. A body is buffered whole (up to the body
 * limit, 30 MiB) before its digest can be checked, so without a bound one enrolled proxy could fill the
 * broker's memory. Counted per authenticated proxy, never per client address: a load balancer puts every
 * proxy behind one address.
 */
import { Inject, Injectable } from '@nestjs/common';
import { TooManyRequests } from '@beamline/domain';
import { KeyedLimit } from '@beamline/http';
import { BROKER_CONFIG, type BrokerConfig } from '../config';

@Injectable()
export class UploadSlots extends KeyedLimit {
  constructor(@Inject(BROKER_CONFIG) config: BrokerConfig) {
    const max = config.maxUploadsPerProxy;
    super(
      max,
      (proxyId, taken) => new TooManyRequests(`body: ${proxyId} already has ${taken} uploads in flight (MAX_UPLOADS_PER_PROXY=${max})`, 'too_many_uploads'),
    );
  }
}
