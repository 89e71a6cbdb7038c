import { JetStreamApiError } from '@nats-io/jetstream';
import { isReservationRefused, reservationError, shrinkError, storageBudget, totalReservation } from './storage-budget';
import { DEFAULT_STORAGE_LIMITS, type StorageLimits } from './storage-settings';

const MiB = 2 ** 20;
const limits: StorageLimits = {
  eventsMaxBytes: 200 * MiB,
  auditMaxBytes: 100 * MiB,
  pkiMaxBytes: 8 * MiB,
  noncesMaxBytes: 8 * MiB,
  presenceMaxBytes: 2 * MiB,
  blobsMaxBytes: 160 * MiB,
};
const apiError = (err_code: number, description: string, code = 500) => new JetStreamApiError({ code, err_code, description });

describe('storageBudget', () => {
  it('lists every stream and bucket with its limit and setting', () => {
    expect(storageBudget(limits).map((e) => [e.store, e.setting, e.maxBytes / MiB, e.whenFull])).toEqual([
      ['BEAM_EVENTS', 'EVENTS_MAX_BYTES', 200, 'refuse'],
      ['BEAM_AUDIT', 'AUDIT_MAX_BYTES', 100, 'drop_oldest'],
      ['BEAM_PKI', 'PKI_MAX_BYTES', 8, 'refuse'],
      ['KV_beam-nonces', 'NONCES_MAX_BYTES', 8, 'refuse'],
      ['KV_beam-presence', 'PRESENCE_MAX_BYTES', 2, 'refuse'],
      ['KV_beam-proxies', 'PRESENCE_MAX_BYTES', 2, 'refuse'],
      ['OBJ_beam-blobs', 'BLOBS_MAX_BYTES', 160, 'refuse'],
      ['KV_beam-leases', 'fixed', 1, 'refuse'],
    ]);
    expect(totalReservation(limits)).toBe(481 * MiB);
  });
});

describe('isReservationRefused', () => {
  it.each([
    [apiError(10047, 'insufficient storage resources available'), true],
    [apiError(10005, 'no suitable peers for placement, insufficient storage', 400), true],
    [apiError(10023, 'insufficient resources', 503), true],
    [apiError(10005, 'no suitable peers for placement', 400), false],
    [apiError(10059, 'stream not found', 404), false],
    [new Error('insufficient storage resources available'), false],
  ])('%s: %s', (err, refused) => {
    expect(isReservationRefused(err)).toBe(refused);
  });
});

describe('reservationError', () => {
  it('names the store, every setting, the total per node and what to change', () => {
    const msg = reservationError('KV_beam-nonces', limits, apiError(10047, 'insufficient storage resources available')).message;
    expect(msg).toBe(
      'JetStream cannot reserve 8 MiB for KV_beam-nonces (NONCES_MAX_BYTES): ' +
        "nats-server's jetstream max_file_store must hold all of Beamline's limits at once, 481 MiB per node " +
        '(EVENTS_MAX_BYTES=200 MiB, AUDIT_MAX_BYTES=100 MiB, PKI_MAX_BYTES=8 MiB, NONCES_MAX_BYTES=8 MiB, PRESENCE_MAX_BYTES=2 MiB (×2 buckets), BLOBS_MAX_BYTES=160 MiB, ' +
        'and 1 MiB for the lease bucket), plus any other stream on the server. ' +
        'Raise max_file_store in the nats-server config, or lower these settings. (JetStream: insufficient storage resources available)',
    );
  });

  it('the defaults need 10.6 GiB', () => {
    expect(reservationError('BEAM_EVENTS', DEFAULT_STORAGE_LIMITS, new Error('x')).message).toContain('10.6 GiB per node');
  });
});

describe('shrinkError', () => {
  it('names the setting, the store, its usage and that acknowledged messages would go', () => {
    const entry = storageBudget(limits)[0];
    expect(shrinkError(entry, 250 * MiB).message).toMatch(
      /^EVENTS_MAX_BYTES=200 MiB is less than BEAM_EVENTS holds now \(250 MiB\); .*delete acknowledged messages/,
    );
  });
});
