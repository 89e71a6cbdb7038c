/**
 * The proxy's control connection: once its own certificate is in the directory, the proxy keeps one
 * signed, long-lived `GET /v1/control` open to the broker. While it is open the broker reports the proxy as
 * connected. The broker's keep-alive comments are read and discarded; silence for longer than
 * IDLE_TIMEOUT_MS counts as a dead connection. Whenever it ends or fails, the proxy reconnects with
 * exponential backoff and jitter (250 ms doubling to 10 s; reset after a connection that lived > 30 s).
 * Nothing here can crash the proxy, and it stops on shutdown.
 */
import { Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerClient } from '../broker/broker-client';
import { CertificateDirectory } from '../pki/certificate-directory';
import { nextBackoff, withJitter } from './backoff';

export const CONTROL_PATH = '/v1/control';
/** A connection that lived longer than this resets the backoff. */
export const BACKOFF_RESET_AFTER_MS = 30_000;
/** The broker writes a keep-alive every 10 s; this much silence means the connection is dead. */
export const IDLE_TIMEOUT_MS = 35_000;
const READY_POLL_MS = 100;

export interface ControlState {
  connected: boolean;
  /** RFC 3339: when the current connection was established (absent while disconnected). */
  since?: string;
  /** Connections established after the first one. */
  reconnects: number;
  /** Why the last attempt or connection ended, while disconnected. */
  last_error?: string;
}

@Injectable()
export class ControlConnection implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('Control');
  private readonly stop = new AbortController();
  private connectedAt: number | undefined;
  private established = 0;
  private lastError: string | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly broker: BrokerClient,
    private readonly directory: CertificateDirectory,
  ) {}

  onApplicationBootstrap(): void {
    this.loop = this.run().catch((err) => this.logger.error(`control loop stopped: ${String(err)}`));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  onApplicationShutdown(): void {
    this.stop.abort();
  }

  get state(): ControlState {
    const connected = this.connectedAt !== undefined;
    return {
      connected,
      ...(connected ? { since: new Date(this.connectedAt as number).toISOString() } : {}),
      reconnects: Math.max(0, this.established - 1),
      ...(!connected && this.lastError ? { last_error: this.lastError } : {}),
    };
  }

  private async run(): Promise<void> {
    let delay: number | undefined;
    while (!this.stop.signal.aborted) {
      if (!this.directory.ready) {
        await this.pause(READY_POLL_MS);
        continue;
      }
      const lived = await this.holdOnce();
      if (this.stop.signal.aborted) break;
      if (lived > BACKOFF_RESET_AFTER_MS) delay = undefined;
      delay = nextBackoff(delay);
      await this.pause(withJitter(delay));
    }
  }

  /** One connection attempt, held until it ends; resolves (never rejects) with how long it was open. */
  private async holdOnce(): Promise<number> {
    const attempt = new AbortController();
    const signal = AbortSignal.any([this.stop.signal, attempt.signal]);
    let idle: NodeJS.Timeout | undefined;
    const touch = (): void => {
      clearTimeout(idle);
      idle = setTimeout(() => attempt.abort(new Error(`no keep-alive from the broker for ${IDLE_TIMEOUT_MS} ms`)), IDLE_TIMEOUT_MS);
      idle.unref();
    };
    let openedAt: number | undefined;
    try {
      touch();
      const { body } = await this.broker.openStream(CONTROL_PATH, { signal });
      openedAt = Date.now();
      this.connectedAt = openedAt;
      this.established++;
      this.lastError = undefined;
      this.logger.log(
        this.established === 1 ? 'control connection to the broker established' : `control connection re-established (reconnect ${this.established - 1})`,
      );
      for await (const _chunk of body) touch(); // keep-alive comments: nothing to do but note the sign of life
      this.lastError = 'the broker ended the control connection';
    } catch (err) {
      this.lastError = attempt.signal.aborted ? String((attempt.signal.reason as Error)?.message ?? attempt.signal.reason) : describe(err);
    } finally {
      clearTimeout(idle);
      this.connectedAt = undefined;
    }
    if (!this.stop.signal.aborted) this.logger.warn(`control connection ${openedAt === undefined ? 'failed' : 'lost'}: ${this.lastError}; reconnecting`);
    return openedAt === undefined ? 0 : Date.now() - openedAt;
  }

  private async pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.stop.signal }).catch(() => undefined);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
