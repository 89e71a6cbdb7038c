/**
 * The socket requests of the audit trail, to judge the events about them that carry no signature of their own.
 * SocketConnected is the broker's record that the recipient connected: it must follow a SocketRequested of the
 * same socket, name that request's recipient, and come at most once (the broker appends it create-once on its
 * subject). A socket id is used once, ever, so a second SocketRequested of one socket is a replay.
 */
import type { SocketConnected, SocketRequested } from '@beamline/domain';

export class SocketRequests {
  /** socket id → its recipient and whether it was connected (about 100 bytes a socket). */
  private readonly requests = new Map<string, { to: string; connected: boolean }>();

  /** Records a request; why it cannot be genuine when its socket was requested before. */
  requested(event: SocketRequested): string | undefined {
    if (this.requests.has(event.socketId)) return `socket ${event.socketId} was requested before: a socket id is used once`;
    this.requests.set(event.socketId, { to: event.to[0], connected: false });
    return undefined;
  }

  /**
   * Why `event` is not a connection the broker could have recorded, or undefined. `complete`: the trail still
   * holds its first message, so a request missing from it never was; once the audit retention has dropped the
   * head of the trail, a connection whose request is gone with it cannot be judged and passes.
   */
  connected(event: SocketConnected, complete: boolean): string | undefined {
    const request = this.requests.get(event.socketId);
    if (!request) return complete ? `socket ${event.socketId} was never requested (no SocketRequested before it in the audit trail)` : undefined;
    if (request.connected) return `socket ${event.socketId} was connected before: a request is connected at most once`;
    request.connected = true;
    if (event.by !== request.to) return `socket ${event.socketId} was requested for ${request.to}, not for ${event.by}`;
    return undefined;
  }
}
