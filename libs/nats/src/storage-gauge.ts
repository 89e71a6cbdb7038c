/**
 * How full Beamline's stores are, polled from JetStream (one stream list per interval, not a request per
 * write), so broker-api can refuse clients' writes before BEAM_EVENTS is truly full and health can say why
 * it is degraded.
 */
import { DiscardPolicy, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { CLIENT_WRITES_STOP_AT, type StoreUsage } from '@beamline/domain';
import { storageBudget } from './storage-budget';
import { DEFAULT_STORAGE_LIMITS } from './storage-settings';
import { EVENTS_STREAM } from './subjects';

const BEAMLINE_STORES = new Set(storageBudget(DEFAULT_STORAGE_LIMITS).map((e) => e.store));

/** Where clients' writes stop, per store: BEAM_EVENTS keeps headroom for the expiry leader's TaskExpired. */
const WRITES_STOP_AT: Readonly<Record<string, number>> = { [EVENTS_STREAM]: CLIENT_WRITES_STOP_AT };

export class StorageGauge {
  private readonly usages = new Map<string, StoreUsage>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private jsm: Promise<JetStreamManager> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly intervalMs = 1_000,
  ) {}

  /** Polls at once and then every interval until stop(); a failed poll keeps the last known usage. */
  start(): void {
    const loop = async (): Promise<void> => {
      await this.poll().catch(() => undefined);
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.intervalMs);
    };
    void loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The last known usage of `store` (plus what this process wrote since), or undefined before the first poll. */
  usage(store: string): StoreUsage | undefined {
    return this.usages.get(store);
  }

  /** Every Beamline store's last known usage, in name order. */
  all(): StoreUsage[] {
    return [...this.usages.values()].sort((a, b) => a.store.localeCompare(b.store));
  }

  /**
   * Counts a write this process just made until the next poll sees it, so a burst of writes between two polls
   * cannot overshoot the point where writes stop by more than other replicas' share.
   */
  recordWrite(store: string, bytes: number): void {
    const u = this.usages.get(store);
    if (u) this.usages.set(store, { ...u, usedBytes: u.usedBytes + bytes });
  }

  async poll(): Promise<void> {
    this.jsm ??= jetstreamManager(this.nc).catch((err: unknown) => {
      this.jsm = undefined;
      throw err;
    });
    const jsm = await this.jsm;
    const seen: StoreUsage[] = [];
    for await (const info of jsm.streams.list()) {
      if (BEAMLINE_STORES.has(info.config.name)) seen.push(usageOf(info));
    }
    this.usages.clear();
    for (const u of seen) this.usages.set(u.store, u);
  }
}

function usageOf(info: StreamInfo): StoreUsage {
  const store = info.config.name;
  return {
    store,
    usedBytes: info.state.bytes,
    maxBytes: info.config.max_bytes,
    whenFull: info.config.discard === DiscardPolicy.Old ? 'drop_oldest' : 'refuse',
    ...(WRITES_STOP_AT[store] === undefined ? {} : { writesStopAt: WRITES_STOP_AT[store] }),
  };
}
