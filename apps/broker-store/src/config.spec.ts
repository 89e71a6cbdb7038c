import { readStorageSettings } from '@beamline/nats';
import { loadStoreConfig } from './config';

describe('broker-store configuration: storage', () => {
  it('reads the storage settings with the reader broker-api uses, so the two cannot disagree', () => {
    const env = { EVENTS_MAX_BYTES: '300MiB', AUDIT_MAX_BYTES: '1GiB', STREAM_REPLICAS: '3', AUDIT_RETENTION: '7d' };
    expect(loadStoreConfig(env).storage).toEqual(readStorageSettings(env));
  });

  it('refuses a bad limit at start-up, naming it', () => {
    expect(() => loadStoreConfig({ AUDIT_MAX_BYTES: '10MiB' })).toThrow(/^AUDIT_MAX_BYTES: at least 64 MiB/);
  });
});
