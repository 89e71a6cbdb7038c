/**
 * Pipes an app's socket ⇄ the broker's relay through sealed socket frames (libs/crypto socket-frames), with
 * backpressure both ways; any failure resets both.
 *
 * The two directions end independently, as TCP's do: the app's FIN becomes our final frame and the relay's
 * FIN (after the peer's final frame) becomes the app's FIN, while the other direction keeps flowing until its
 * own end. Both connections are therefore half-open (`allowHalfOpen`): a socket that is not ends its own write
 * side when the peer's FIN arrives, so the broker's FIN for the peer's direction would end ours too, without
 * a final frame (the peer app saw its connection reset mid-stream). The connection to the app closes once
 * both directions ended, or on a real error.
 */
import type { Logger } from '@nestjs/common';
import type { Socket } from 'node:net';
import { FrameOpener, FrameSealer } from '@beamline/crypto';

/**
 * Lets the peer's FIN end only the readable side of `socket` (Node ends the writable side too unless the
 * socket allows half-open). Call before the socket reads, so no FIN is processed the other way first.
 */
export function allowHalfOpen(socket: Socket): void {
  socket.allowHalfOpen = true;
}

export class EncryptedRelay {
  private readonly sealer: FrameSealer;
  private readonly opener: FrameOpener;
  private finalSent = false;
  private dead = false;
  // For the log line of a stream that did not end cleanly: how far each direction got.
  private fromAppBytes = 0;
  private fromRelayBytes = 0;
  private toAppBytes = 0;
  private readonly fromApp = (chunk: Buffer): void => this.onAppData(chunk);

  constructor(
    private readonly app: Socket,
    private readonly relay: Socket,
    sendKey: Buffer,
    receiveKey: Buffer,
    private readonly logger: Logger,
  ) {
    this.sealer = new FrameSealer(sendKey);
    this.opener = new FrameOpener(receiveKey);
  }

  /** Starts relaying; `appHead` and `relayRest` are bytes each side sent before the pipe existed. */
  start(appHead: Buffer, relayRest: Buffer): void {
    const { app, relay } = this;
    allowHalfOpen(app);
    allowHalfOpen(relay);
    app.setNoDelay(true);
    relay.setNoDelay(true);
    app.on('data', this.fromApp);
    app.on('end', () => {
      if (this.dead) return;
      this.finalSent = true;
      relay.end(this.sealer.final());
    });
    app.on('error', (err) => this.kill(`app: ${err.message}`));
    app.on('close', () => {
      if (!this.clean()) this.kill('app closed');
    });
    relay.on('data', (chunk: Buffer) => this.onRelayData(chunk));
    relay.on('end', () => {
      try {
        this.opener.end();
      } catch (err) {
        this.kill(`relay: ${(err as Error).message}`);
      }
    });
    relay.on('error', (err) => this.kill(`relay: ${err.message}`));
    relay.on('close', () => this.onRelayClose());
    if (relayRest.length > 0) this.onRelayData(relayRest);
    if (appHead.length > 0) this.onAppData(appHead);
    relay.resume();
    app.resume();
  }

  private clean(): boolean {
    return this.finalSent && this.opener.done;
  }

  private kill(why: string): void {
    if (this.dead) return;
    this.dead = true;
    const progress = `app sent ${this.fromAppBytes} bytes, relay sent ${this.fromRelayBytes} bytes (${this.toAppBytes} bytes of plaintext to the app)`;
    if (why === 'app closed') this.logger.debug(`socket reset: ${why}; ${progress}`);
    else this.logger.warn(`socket reset: ${why}; ${progress}`);
    if (typeof this.app.resetAndDestroy === 'function' && !this.app.destroyed) this.app.resetAndDestroy();
    else this.app.destroy();
    this.relay.destroy();
  }

  private onAppData(chunk: Buffer): void {
    this.fromAppBytes += chunk.length;
    let ok = true;
    for (const frame of this.sealer.seal(chunk)) ok = this.relay.write(frame) && ok;
    if (!ok && !this.app.isPaused()) {
      this.app.pause();
      this.relay.once('drain', () => this.app.resume());
    }
  }

  private onRelayData(chunk: Buffer): void {
    this.fromRelayBytes += chunk.length;
    let plain: Buffer[];
    try {
      plain = this.opener.push(chunk);
    } catch (err) {
      this.kill(`relay: ${(err as Error).message}`);
      return;
    }
    let ok = true;
    for (const p of plain) {
      this.toAppBytes += p.length;
      ok = this.app.write(p) && ok;
    }
    if (!ok && !this.relay.isPaused()) {
      this.relay.pause();
      this.app.once('drain', () => this.relay.resume());
    }
    if (this.opener.done && !this.app.writableEnded) this.app.end();
  }

  private onRelayClose(): void {
    if (this.clean()) return;
    if (this.opener.done && !this.dead) {
      // The peer's direction ended cleanly, then the relay closed before the app's did (the broker let go of
      // a half-open relay): everything for the app is queued ahead of its end. A reset here dropped what was
      // still queued (the last ~200 KB of a 100 MB transfer under load); let it drain, only the app's own
      // direction is lost.
      this.dead = true;
      this.app.off('data', this.fromApp);
      if (this.app.writableFinished) this.app.destroy();
      else this.app.once('finish', () => this.app.destroy());
      return;
    }
    this.kill('relay closed');
  }
}
