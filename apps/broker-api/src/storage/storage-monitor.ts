/**
 * How full the stores are, for the write path and for health. Clients' writes to BEAM_EVENTS stop before
 * JetStream's own limit (CLIENT_WRITES_STOP_AT), leaving the rest to the expiry leader, whose TaskExpired
 * events and purges are how a full log frees itself. The check reads a gauge polled once a second, so it
 * costs a write nothing.
 */
import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { assertRoomFor, storageReasons, type StoreUsage } from '@beamline/domain';
import { EVENTS_STREAM, StorageGauge } from '@beamline/nats';

/** What an event adds around the signed message it carries (type, ids, recipients, times, digest). */
const EVENT_ENVELOPE_BYTES = 1_024;

@Injectable()
export class StorageMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(private readonly gauge: StorageGauge) {}

  onApplicationBootstrap(): void {
    this.gauge.start();
  }

  onApplicationShutdown(): void {
    this.gauge.stop();
  }

  /** Throws StorageFull (507) when an event carrying `message` would take BEAM_EVENTS past where clients' writes stop. */
  assertRoomForEvent(message: string): void {
    assertRoomFor(this.gauge.usage(EVENTS_STREAM), message.length + EVENT_ENVELOPE_BYTES);
  }

  /** Counts an event this replica appended until the next poll sees it. */
  appended(bytes: number): void {
    this.gauge.recordWrite(EVENTS_STREAM, bytes);
  }

  /** Why health is degraded, one sentence per store nearing or at its limit. */
  reasons(): string[] {
    return storageReasons(this.gauge.all());
  }

  usages(): StoreUsage[] {
    return this.gauge.all();
  }
}
