/**
 * The control connections this broker-api instance holds. While at least one connection from a proxy is
 * open here, this instance keeps the proxy's presence key alive (every 10 s, with a keep-alive comment on
 * each connection); when the last one closes it deletes the key and records the disconnect. KV operations
 * of one proxy run one after another, so a close can never overtake the registration it undoes.
 * On shutdown every held connection is closed (the proxies reconnect to another replica) and marked gone.
 */
import { randomUUID } from 'node:crypto';
import { shutdownSignal } from '@beamline/http';
import { Injectable, Logger, type BeforeApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import { BrokerUnavailable } from '@beamline/domain';
import { PresenceStore } from './presence-store';

export const CONTROL_HEARTBEAT_MS = 10_000;
export const KEEP_ALIVE_COMMENT = ': keep-alive\n\n';

interface Held {
  res: Response;
  since: number;
}

@Injectable()
export class ControlConnections implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Presence');
  /** Random per process: a crashed instance's keys are never refreshed again and expire. */
  readonly instanceId = randomUUID();
  private readonly held = new Map<string, Set<Held>>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private closing = false;

  constructor(private readonly store: PresenceStore) {
    this.timer = setInterval(() => this.heartbeat(), CONTROL_HEARTBEAT_MS);
    this.timer.unref();
    // At SIGTERM, not only once the HTTP server has closed: a held connection would keep it open.
    shutdownSignal.addEventListener('abort', () => void this.beforeApplicationShutdown(), { once: true });
  }

  /**
   * Holds `res` open as proxy `proxyId`'s control connection: records the presence first (so the proxy is
   * reported connected by the time it sees the 200), then answers `text/event-stream` and keeps it open.
   */
  async hold(proxyId: string, res: Response): Promise<void> {
    if (this.closing) throw new BrokerUnavailable('broker: shutting down', 'shutting_down');
    const conn: Held = { res, since: Date.now() };
    let set = this.held.get(proxyId);
    if (!set) this.held.set(proxyId, (set = new Set()));
    set.add(conn);
    res.on('close', () => void this.release(proxyId, conn));
    try {
      await this.serially(proxyId, () => this.store.present(proxyId, this.instanceId, this.sinceOf(proxyId) ?? conn.since));
    } catch (err) {
      void this.release(proxyId, conn);
      throw new BrokerUnavailable(`presence: cannot record the control connection (${(err as Error).message})`, undefined, { cause: err });
    }
    if (res.destroyed || !set.has(conn)) return; // the proxy went away (or we shut down) meanwhile
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream');
    res.setHeader('Cache-Control', 'no-cache');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    res.write(KEEP_ALIVE_COMMENT);
    this.logger.debug(`control connection from ${proxyId} (${set.size} here)`);
  }

  /** Proxies with a control connection to this instance (for diagnostics). */
  get proxies(): string[] {
    return [...this.held.keys()];
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    const pending: Promise<void>[] = [];
    for (const [proxyId, set] of this.held) {
      for (const conn of [...set]) {
        pending.push(this.release(proxyId, conn));
        conn.res.end();
      }
    }
    await Promise.all(pending);
  }

  private release(proxyId: string, conn: Held): Promise<void> {
    const set = this.held.get(proxyId);
    if (!set?.delete(conn)) return Promise.resolve();
    if (set.size > 0) return Promise.resolve();
    this.held.delete(proxyId);
    this.logger.debug(`control connection from ${proxyId} closed`);
    return this.serially(proxyId, async () => {
      if (this.held.has(proxyId)) return; // it reconnected here meanwhile
      await this.store.gone(proxyId, this.instanceId);
    }).catch((err) => this.logger.warn(`presence of ${proxyId}: cannot record the disconnect: ${String(err)}`));
  }

  private heartbeat(): void {
    for (const [proxyId, set] of this.held) {
      for (const conn of set) {
        if (!conn.res.destroyed && conn.res.headersSent) conn.res.write(KEEP_ALIVE_COMMENT);
      }
      void this.serially(proxyId, async () => {
        const since = this.sinceOf(proxyId);
        if (since !== undefined) await this.store.present(proxyId, this.instanceId, since);
      }).catch((err) => this.logger.warn(`presence of ${proxyId}: refresh failed: ${String(err)}`));
    }
  }

  private sinceOf(proxyId: string): number | undefined {
    const set = this.held.get(proxyId);
    if (!set || set.size === 0) return undefined;
    return Math.min(...[...set].map((c) => c.since));
  }

  /** Runs `op` after every earlier operation for the same proxy settled. */
  private serially(proxyId: string, op: () => Promise<void>): Promise<void> {
    const previous = this.queues.get(proxyId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(op);
    const tail = next.catch(() => undefined);
    this.queues.set(proxyId, tail);
    void tail.then(() => {
      if (this.queues.get(proxyId) === tail) this.queues.delete(proxyId);
    });
    return next;
  }
}
