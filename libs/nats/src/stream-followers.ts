/** Builds {@link StreamFollower}s on the process's connection: the one consume loop every stream reader uses. */
import type { NatsConnection } from '@nats-io/nats-core';
import { StreamFollower, type FollowedMessage, type FollowOptions } from './stream-follower';

export class StreamFollowers {
  constructor(private readonly nc: NatsConnection) {}

  follow(
    stream: string,
    filterSubject: string,
    handle: (msg: FollowedMessage) => void | Promise<void>,
    onError: (err: unknown) => void,
    options: FollowOptions = {},
  ): StreamFollower {
    return new StreamFollower(this.nc, stream, filterSubject, handle, onError, options);
  }
}
