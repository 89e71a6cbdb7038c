import { ConfigError } from '@beamline/config';
import { DEFAULT_STORAGE_LIMITS, DEFAULT_STORAGE_SETTINGS, readStorageSettings } from './storage-settings';
import { totalReservation } from './storage-budget';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('readStorageSettings', () => {
  it('has defaults for every setting', () => {
    expect(readStorageSettings({})).toEqual(DEFAULT_STORAGE_SETTINGS);
  });

  it('reads every limit with units, and replicas and retention', () => {
    const s = readStorageSettings({
      EVENTS_MAX_BYTES: '40GiB',
      AUDIT_MAX_BYTES: '500GB',
      PKI_MAX_BYTES: '64MiB',
      NONCES_MAX_BYTES: '1073741824',
      PRESENCE_MAX_BYTES: '8MiB',
      BLOBS_MAX_BYTES: '20GiB',
      STREAM_REPLICAS: '3',
      AUDIT_RETENTION: '7d',
      MAX_TTL: '1h',
    });
    expect(s).toEqual({
      replicas: 3,
      maxTtlMs: 3_600_000,
      auditRetentionMs: 7 * 86_400_000,
      limits: {
        eventsMaxBytes: 40 * GiB,
        auditMaxBytes: 500 * GiB,
        pkiMaxBytes: 64 * MiB,
        noncesMaxBytes: GiB,
        presenceMaxBytes: 8 * MiB,
        blobsMaxBytes: 20 * GiB,
      },
    });
  });

  it('treats an empty variable as unset', () => {
    expect(readStorageSettings({ EVENTS_MAX_BYTES: '', AUDIT_RETENTION: '' })).toEqual(DEFAULT_STORAGE_SETTINGS);
  });

  it.each([
    ['EVENTS_MAX_BYTES', 'a lot', /^  EVENTS_MAX_BYTES: expected a size/m],
    ['EVENTS_MAX_BYTES', '32MiB', /^  EVENTS_MAX_BYTES: at least 64 MiB, got "32MiB"/m],
    ['AUDIT_MAX_BYTES', '1MiB', /^  AUDIT_MAX_BYTES: at least 64 MiB/m],
    ['NONCES_MAX_BYTES', '1000', /^  NONCES_MAX_BYTES: at least 1 MiB/m],
    ['BLOBS_MAX_BYTES', '64MiB', /^  BLOBS_MAX_BYTES: at least 160 MiB/m],
    ['STREAM_REPLICAS', '7', /^  STREAM_REPLICAS: expected an integer from 1 to 5/m],
    ['AUDIT_RETENTION', 'forever', /^  AUDIT_RETENTION: /m],
    ['MAX_TTL', '-1s', /^  MAX_TTL: /m],
  ])('refuses %s=%j with a message naming it', (name, value, message) => {
    expect(() => readStorageSettings({ [name]: value })).toThrow(message);
  });

  it('names every bad variable at once, in a ConfigError (not a domain error meant for an HTTP answer)', () => {
    let error: unknown;
    try {
      readStorageSettings({ PKI_MAX_BYTES: 'x', STREAM_REPLICAS: '0', MAX_TTL: 'soon' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.split(':')[0]).sort()).toEqual(['MAX_TTL', 'PKI_MAX_BYTES', 'STREAM_REPLICAS']);
  });

  it('keeps the defaults inside the dev server store and the 100GB of infra/nats', () => {
    expect(totalReservation(DEFAULT_STORAGE_LIMITS)).toBeLessThan(11 * GiB);
  });
});
