/**
 * The core-NATS side of the direct-socket relay (see `subjects.socketRelay*`): one end of a socket listens
 * on its role's subjects and publishes to its peer role's. Only ciphertext frames ever pass; what they mean
 * is the caller's.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { safeCallback } from './safe-callback';
import { subjects } from './subjects';

/** `a` = the initiator's end, `b` = the recipient's. */
export type RelayRole = 'a' | 'b';

/**
 * A message for this end: `to` is `hello` (pairing) or the connection id it was sent to (the paired peer's
 * frames).
 */
export type RelayMessageHandler = (to: string, data: Uint8Array) => void;

/** Opens relay channels on the process's connection. */
export class RelayChannels {
  constructor(private readonly nc: NatsConnection) {}

  /** Subscribes `role`'s end of socket `socketId`; `onError` hears what `onMessage` threw. */
  open(socketId: string, role: RelayRole, onMessage: RelayMessageHandler, onError: (message: string) => void): RelayChannel {
    const sub = this.nc.subscribe(subjects.socketRelayInbox(socketId, role), {
      callback: safeCallback(`relay of socket ${socketId}`, onError, (msg) => onMessage(msg.subject.slice(msg.subject.lastIndexOf('.') + 1), msg.data)),
    });
    return new RelayChannel(this.nc, socketId, role === 'a' ? 'b' : 'a', sub);
  }
}

/** One end's subscription, and its way to the peer role's subjects (which outlives the subscription). */
export class RelayChannel {
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly socketId: string,
    private readonly peerRole: RelayRole,
    sub: Subscription,
  ) {
    this.sub = sub;
  }

  /** True until `unsubscribe`. */
  get subscribed(): boolean {
    return this.sub !== undefined;
  }

  /** Resolves once the server has the subscription, so a peer's answer cannot arrive before it. */
  flush(): Promise<void> {
    return this.nc.flush();
  }

  /** Publishes on the peer role's `hello` subject, heard by any end of that role. */
  hello(data: Uint8Array): void {
    this.nc.publish(subjects.socketRelayHello(this.socketId, this.peerRole), data);
  }

  /** Publishes to the peer end with connection id `peerConn`. */
  send(peerConn: string, data: Uint8Array): void {
    this.nc.publish(subjects.socketRelayConn(this.socketId, this.peerRole, peerConn), data);
  }

  unsubscribe(): void {
    this.sub?.unsubscribe();
    this.sub = undefined;
  }
}
