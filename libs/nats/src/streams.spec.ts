import { DiscardPolicy } from '@nats-io/jetstream';
import { assertNoShrinkBelowUse, auditStreamConfig, brokerStreamOptions, eventsStreamConfig, pkiStreamConfig } from './streams';
import { storageBudget } from './storage-budget';
import { readStorageSettings } from './storage-settings';

const MiB = 2 ** 20;
const opts = brokerStreamOptions(readStorageSettings({ EVENTS_MAX_BYTES: '200MiB', AUDIT_MAX_BYTES: '100MiB', PKI_MAX_BYTES: '8MiB' }));

describe('stream configurations', () => {
  it('BEAM_EVENTS refuses writes at its limit rather than deleting acknowledged events', () => {
    expect(eventsStreamConfig(opts)).toMatchObject({ name: 'BEAM_EVENTS', discard: DiscardPolicy.New, max_bytes: 200 * MiB });
  });

  it('BEAM_PKI refuses too: a full directory must never drop a certificate or revocation', () => {
    expect(pkiStreamConfig(opts)).toMatchObject({ name: 'BEAM_PKI', discard: DiscardPolicy.New, max_bytes: 8 * MiB });
  });

  it('BEAM_AUDIT drops its oldest copies at its limit, so the copier is never refused', () => {
    expect(auditStreamConfig(opts)).toMatchObject({ name: 'BEAM_AUDIT', discard: DiscardPolicy.Old, max_bytes: 100 * MiB });
  });

  it('the brokers reconcile to their settings', () => {
    expect(opts.reconcile).toBe(true);
  });
});

describe('assertNoShrinkBelowUse', () => {
  const [events, audit] = storageBudget(opts.limits);

  it('refuses a limit below what a refusing store holds', () => {
    expect(() => assertNoShrinkBelowUse(events, 200 * MiB + 1)).toThrow(/^EVENTS_MAX_BYTES=200 MiB is less than BEAM_EVENTS holds now/);
    expect(() => assertNoShrinkBelowUse(events, 200 * MiB)).not.toThrow();
  });

  it('lets BEAM_AUDIT shrink: dropping its oldest copies is its policy', () => {
    expect(() => assertNoShrinkBelowUse(audit, 10 * 1024 * MiB)).not.toThrow();
  });
});
