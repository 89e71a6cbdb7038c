/**
 * The byte stream between the two paired ends of a direct socket, over a lossy, order-preserving channel
 * (core NATS: at most once, in order per publisher). Each end relays its TCP connection's bytes to the
 * peer and the peer's bytes to its TCP connection, and no byte is lost, duplicated or reordered even when
 * NATS drops messages (a reconnect, a slow-consumer cut). The frames (relay-frames.ts): data at an offset,
 * end (FIN), a cumulative ack (bytes received in order, bytes written to TCP), a probe ("answer with an
 * ack"; it says how much was sent) and abort.
 *
 * Flow control: a sender keeps at most `windowBytes` not yet written to the peer's TCP connection and
 * pauses its own TCP connection while the window is full (backpressure). Loss recovery is go-back-N from
 * the peer's `received`: a receiver that sees a gap says so once (GAP); a sender without ack progress
 * probes, and an answer to a probe that has not received everything sent before it proves a loss, because
 * the channel keeps order. Unacknowledged data is kept (bounded by the window) until acknowledged.
 * Liveness: an end that hears nothing from its peer for `peerTimeoutMs` resets; idle ends probe every
 * `heartbeatMs`. After a clean close an end lingers until its FIN is acknowledged, then answers probes for a
 * few intervals more, in case the peer still waits for the ack of its own FIN.
 */
import type { Duplex } from 'node:stream';
import * as frames from './relay-frames';

export { RELAY_ABORT_MESSAGE } from './relay-frames';

export interface RelayLinkOptions {
  windowBytes: number;
  /** The receiver acknowledges after writing this many bytes (and always at the end). */
  ackBatchBytes: number;
  /** A sender probes after this long without ack progress while it has unacknowledged data. */
  probeAfterMs: number;
  heartbeatMs: number;
  peerTimeoutMs: number;
  /** How long a closed end waits for its FIN to be acknowledged. */
  lingerMs: number;
}

export const DEFAULT_RELAY_LINK_OPTIONS: RelayLinkOptions = {
  windowBytes: 1024 * 1024,
  ackBatchBytes: 256 * 1024,
  probeAfterMs: 500,
  heartbeatMs: 3_000,
  peerTimeoutMs: 20_000,
  lingerMs: 10_000,
};

/**
 * How a link ended: both FINs delivered and confirmed; reset here or by the peer; the peer went silent; or
 * closed cleanly here without the peer confirming our FIN (it may be gone).
 */
export type LinkOutcome = 'clean' | 'reset' | 'peer-reset' | 'peer-silent' | 'unconfirmed';

/** A cleanly closed end answers probes for this many probe intervals before it goes. */
const TIME_WAIT_PROBES = 4;

interface Sent {
  offset: number;
  bytes: Buffer;
}

export class RelayLink {
  // Outbound: our TCP connection's bytes to the peer.
  private sent = 0;
  private peerReceived = 0;
  private peerWritten = 0;
  private unacked: Sent[] = [];
  private endSent = false;
  private endAcked = false;
  private pausedByUs = false;
  private lastProgressAt = 0;
  private lastProbeAt = 0;
  private retransmittedFrom = -1;
  private retransmittedAt = 0;
  // Inbound: the peer's bytes to our TCP connection.
  private expected = 0;
  private written = 0;
  private announcedWritten = 0;
  private gotEnd = false;
  private gapReportedFor = -1;
  // The connection.
  private tcpClosed = false;
  private closedAt = 0;
  private doneAt = 0;
  private lastHeardAt = Date.now();
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private outcome: LinkOutcome | undefined;
  retransmittedBytes = 0;

  constructor(
    private readonly socket: Duplex,
    private readonly publish: (msg: Buffer) => void,
    private readonly onDone: (outcome: LinkOutcome) => void,
    private readonly opts: RelayLinkOptions = DEFAULT_RELAY_LINK_OPTIONS,
  ) {}

  /** Bytes of our TCP connection sent on to the peer (metrics). */
  get bytesSent(): number {
    return this.sent;
  }

  get finished(): boolean {
    return this.outcome !== undefined;
  }

  /** Where each direction stood (for the log line of a stream that did not end cleanly). */
  describe(): string {
    return `sent ${this.sent} (peer received ${this.peerReceived}, wrote ${this.peerWritten}${this.endSent ? `, FIN sent${this.endAcked ? ' and acked' : ''}` : ''}); received ${this.expected} (wrote ${this.written}${this.gotEnd ? ', FIN received' : ''})${this.tcpClosed ? '; TCP closed' : ''}`;
  }

  /** Starts relaying; `head` holds TCP bytes that arrived before. */
  start(head: Buffer): void {
    this.socket.on('data', (chunk: Buffer) => this.sendData(chunk));
    this.socket.on('end', () => this.sendEnd());
    this.socket.on('close', () => this.tcpClose());
    this.socket.on('error', () => undefined);
    const tick = Math.max(10, Math.min(this.opts.probeAfterMs, this.opts.heartbeatMs) / 2);
    this.timer = setInterval(() => this.onTick(), tick);
    this.timer.unref?.();
    if (head.length > 0) this.sendData(head);
  }

  /** A message from the peer. */
  receive(msg: Uint8Array): void {
    if (this.finished || msg.length === 0) return;
    this.lastHeardAt = Date.now();
    const frame = frames.decodeFrame(Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength));
    switch (frame?.t) {
      case 'data':
        this.onData(frame.offset, frame.bytes);
        break;
      case 'end':
        this.onEnd(frame.offset);
        break;
      case 'ack':
        this.onAck(frame.received, frame.written, frame.flags, frame.probe);
        break;
      case 'probe':
        this.sendAck(frames.F_PROBED | (frame.flags & frames.P_END_SENT ? frames.F_PROBED_END : 0), frame.sent);
        break;
      case 'abort':
        this.finish('peer-reset');
        break;
      case undefined:
        break;
    }
  }

  /** Resets the stream: tells the peer and destroys our TCP connection. */
  abort(outcome: LinkOutcome = 'reset'): void {
    this.finish(outcome);
  }

  // --- outbound ---

  private sendData(chunk: Buffer): void {
    if (this.finished || this.endSent || chunk.length === 0) return;
    if (this.unacked.length === 0) this.lastProgressAt = Date.now();
    const sent: Sent = { offset: this.sent, bytes: chunk };
    this.unacked.push(sent);
    this.sent += chunk.length;
    this.send(frames.dataFrame(sent.offset, sent.bytes));
    if (this.sent - this.peerWritten >= this.opts.windowBytes && !this.pausedByUs) {
      this.pausedByUs = true;
      this.socket.pause();
    }
  }

  private sendEnd(): void {
    if (this.finished || this.endSent) return;
    this.endSent = true;
    if (this.unacked.length === 0) this.lastProgressAt = Date.now();
    this.send(frames.endFrame(this.sent));
  }

  private onAck(received: number, written: number, flags: number, probe: number): void {
    if (received > this.sent || written > received) return;
    if (received > this.peerReceived) {
      this.peerReceived = received;
      this.lastProgressAt = Date.now();
      while (this.unacked.length > 0 && this.unacked[0].offset + this.unacked[0].bytes.length <= received) this.unacked.shift();
    }
    if (written > this.peerWritten) {
      this.peerWritten = written;
      this.lastProgressAt = Date.now();
    }
    if (flags & frames.F_END_RECEIVED && this.endSent && received === this.sent) this.endAcked = true;
    const lostData = (flags & frames.F_GAP) !== 0 || ((flags & frames.F_PROBED) !== 0 && received < probe);
    const lostEnd = (flags & frames.F_PROBED_END) !== 0 && (flags & frames.F_END_RECEIVED) === 0 && received === this.sent;
    if (lostData) this.retransmitFrom(received);
    else if (lostEnd && this.endSent && !this.endAcked) this.send(frames.endFrame(this.sent));
    if (this.pausedByUs && this.sent - this.peerWritten < this.opts.windowBytes) {
      this.pausedByUs = false;
      this.socket.resume();
    }
    this.maybeDone();
  }

  /** Go-back-N: everything the peer has not received, in order, then the FIN if sent. */
  private retransmitFrom(received: number): void {
    // A gap report and a probe's answer often tell of the same loss; one retransmission per probe interval.
    const now = Date.now();
    if (received === this.retransmittedFrom && now - this.retransmittedAt < this.opts.probeAfterMs) return;
    this.retransmittedFrom = received;
    this.retransmittedAt = now;
    for (const s of this.unacked) {
      if (s.offset + s.bytes.length <= received) continue;
      this.retransmittedBytes += s.bytes.length;
      this.send(frames.dataFrame(s.offset, s.bytes));
    }
    if (this.endSent && !this.endAcked) this.send(frames.endFrame(this.sent));
  }

  // --- inbound ---

  private onData(offset: number, bytes: Buffer): void {
    if (this.gotEnd || offset < this.expected) return; // a duplicate
    if (offset > this.expected) return this.gap();
    this.expected += bytes.length;
    if (this.tcpClosed) return;
    this.socket.write(bytes, (err) => {
      if (err) return;
      this.written += bytes.length;
      if (this.written - this.announcedWritten >= this.opts.ackBatchBytes || this.gotEnd) this.sendAck(0);
    });
  }

  private onEnd(offset: number): void {
    if (this.gotEnd) return this.sendAck(0); // our ack of it was lost
    if (offset > this.expected) return this.gap();
    if (offset < this.expected) return;
    this.gotEnd = true;
    if (!this.tcpClosed) this.socket.end();
    this.sendAck(0);
    this.maybeDone();
  }

  private gap(): void {
    if (this.gapReportedFor === this.expected) return;
    this.gapReportedFor = this.expected;
    this.sendAck(frames.F_GAP);
  }

  private sendAck(flags: number, probe = 0): void {
    this.announcedWritten = this.written;
    this.send(frames.ackFrame(this.expected, this.written, flags | (this.gotEnd ? frames.F_END_RECEIVED : 0), probe));
  }

  // --- the connection ---

  private onTick(): void {
    if (this.finished) return;
    const now = Date.now();
    if (this.doneAt) {
      if (now - this.doneAt >= this.opts.probeAfterMs * TIME_WAIT_PROBES) this.finish('clean');
      return;
    }
    if (now - this.lastHeardAt >= this.opts.peerTimeoutMs) return this.finish('peer-silent');
    if (this.tcpClosed && now - this.closedAt >= this.opts.lingerMs) return this.finish('unconfirmed');
    // A full window waits for acks of written bytes, which may have been lost as well.
    const outstanding = this.peerReceived < this.sent || (this.endSent && !this.endAcked) || this.pausedByUs;
    const stalled = outstanding && now - this.lastProgressAt >= this.opts.probeAfterMs && now - this.lastProbeAt >= this.opts.probeAfterMs;
    if (stalled || now - this.lastSentAt >= this.opts.heartbeatMs) {
      this.lastProbeAt = now;
      this.send(frames.probeFrame(this.sent, this.endSent));
    }
  }

  private tcpClose(): void {
    if (this.finished || this.tcpClosed) return;
    this.tcpClosed = true;
    this.closedAt = Date.now();
    // A close without a FIN both ways is a reset; a clean one lingers until the peer has our FIN.
    if (!(this.endSent && this.gotEnd)) return this.finish('reset');
    this.maybeDone();
  }

  private maybeDone(): void {
    if (this.doneAt || !(this.tcpClosed && this.endSent && this.endAcked && this.gotEnd && this.unacked.length === 0)) return;
    // Like TCP's TIME_WAIT: our ack of the peer's FIN may have been lost, so keep answering its probes a while.
    this.doneAt = Date.now();
  }

  private send(msg: Buffer): void {
    this.lastSentAt = Date.now();
    this.publish(msg);
  }

  private finish(outcome: LinkOutcome): void {
    if (this.finished) return;
    if (outcome === 'reset' || outcome === 'peer-silent') this.send(Buffer.from(frames.RELAY_ABORT_MESSAGE));
    this.outcome = outcome;
    clearInterval(this.timer);
    this.unacked = [];
    // A reset is passed on as a TCP reset where the transport has one, so the proxy cannot take it for a FIN.
    const socket = this.socket as Duplex & { resetAndDestroy?: () => void };
    if (!socket.destroyed) {
      if (outcome !== 'clean' && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
      else socket.destroy();
    }
    this.onDone(outcome);
  }
}
