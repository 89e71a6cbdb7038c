/** The KV buckets broker-api uses, as `c` configures them: reconciled at start-up (StorageSetup), opened lazily by their stores. */
import { nonceBucket, presenceBucket, proxiesBucket, type BucketSpec } from '@beamline/nats';
import type { BrokerConfig } from '../config';

/** A nonce must be remembered as long as a request carrying it can pass the clock-skew check, on either side of now. */
const NONCE_MARGIN_MS = 60_000;

export const apiBuckets = {
  nonces: (c: BrokerConfig): BucketSpec => nonceBucket(c.storage, 2 * c.maxClockSkewMs + NONCE_MARGIN_MS),
  presence: (c: BrokerConfig): BucketSpec => presenceBucket(c.storage),
  proxies: (c: BrokerConfig): BucketSpec => proxiesBucket(c.storage),
};

export function allApiBuckets(c: BrokerConfig): BucketSpec[] {
  return [apiBuckets.nonces(c), apiBuckets.presence(c), apiBuckets.proxies(c)];
}
