import { readStorageSettings } from '@beamline/nats';
import { loadStoreConfig } from './config';

describe('broker-store configuration: storage', () => {
  it('reads the storage settings with the reader broker-api uses, so the two cannot disagree', () => {
    const env = { EVENTS_MAX_BYTES: '300MiB', AUDIT_MAX_BYTES: '1GiB', STREAM_REPLICAS: '3', AUDIT_RETENTION: '7d' };
    expect(loadStoreConfig(env).storage).toEqual(readStorageSettings(env));
  });

  it('refuses a bad limit at start-up, naming it', () => {
    expect(() => loadStoreConfig({ AUDIT_MAX_BYTES: '10MiB' })).toThrow(/^  AUDIT_MAX_BYTES: at least 64 MiB/m);
  });

  it('names every bad variable at once, NATS_URL that is not a NATS address included', () => {
    expect(() => loadStoreConfig({ NATS_URL: 'http://nats:4222', EXPIRY_SWEEP_MS: '0', LOG_LEVEL: 'loud' })).toThrow(
      'broker-store: bad configuration:\n  NATS_URL: expected nats://host:port (comma-separated for several), got "http://nats:4222"\n  LOG_LEVEL: expected "error" or "warn" or "info" or "debug" or "trace", got "loud"\n  EXPIRY_SWEEP_MS: expected an integer of at least 1, got "0"',
    );
  });

  it('accepts several NATS servers, with or without a scheme', () => {
    expect(loadStoreConfig({ NATS_URL: 'nats://a:4222, tls://b:4223,c:4224' }).nats.servers).toBe('nats://a:4222,tls://b:4223,c:4224');
  });
});
