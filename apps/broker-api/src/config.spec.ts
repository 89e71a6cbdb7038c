import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBrokerConfig } from './config';
import { readStorageSettings } from '@beamline/nats';
import { DEFAULT_RELAY_LINK_OPTIONS } from './sockets/relay-link';

const dir = mkdtempSync(join(tmpdir(), 'broker-config-'));
const rootCert = join(dir, 'root.pem');
writeFileSync(rootCert, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
const SECRET = randomBytes(32);
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ROOTCERT_FILE: rootCert, SESSION_SECRET: SECRET.toString('hex'), ...extra });

describe('broker-api configuration: the socket relay', () => {
  it('uses the default relay tuning when SOCKET_PEER_TIMEOUT is unset', () => {
    expect(loadBrokerConfig(env()).socketRelay).toEqual(DEFAULT_RELAY_LINK_OPTIONS);
  });

  it('takes SOCKET_PEER_TIMEOUT as a duration and keeps heartbeats well inside it', () => {
    const relay = loadBrokerConfig(env({ SOCKET_PEER_TIMEOUT: '2s' })).socketRelay;
    expect(relay.peerTimeoutMs).toBe(2_000);
    expect(relay.heartbeatMs).toBe(500);
    expect(relay.lingerMs).toBe(2_000);
  });

  it('refuses a SOCKET_PEER_TIMEOUT below one second or not a duration, naming it', () => {
    expect(() => loadBrokerConfig(env({ SOCKET_PEER_TIMEOUT: '500ms' }))).toThrow(/SOCKET_PEER_TIMEOUT/);
    expect(() => loadBrokerConfig(env({ SOCKET_PEER_TIMEOUT: 'soon' }))).toThrow(/SOCKET_PEER_TIMEOUT/);
  });
});

describe('broker-api configuration: storage', () => {
  it('reads the storage settings with the reader broker-store uses, so the two cannot disagree', () => {
    const storageEnv = { EVENTS_MAX_BYTES: '300MiB', AUDIT_MAX_BYTES: '1GiB', STREAM_REPLICAS: '3', MAX_TTL: '2h' };
    const config = loadBrokerConfig(env(storageEnv));
    expect(config.storage).toEqual(readStorageSettings(storageEnv));
    expect(config.maxTtlMs).toBe(2 * 3_600_000);
  });

  it('refuses a bad limit at start-up, naming it', () => {
    expect(() => loadBrokerConfig(env({ NONCES_MAX_BYTES: 'plenty' }))).toThrow(/^  NONCES_MAX_BYTES: /m);
  });
});

describe('broker-api configuration: quotas', () => {
  it('defaults to generous per-proxy quotas: no proxy may hold more than half of the live log', () => {
    expect(loadBrokerConfig(env({ EVENTS_MAX_BYTES: '1GiB' })).quotas).toEqual({ writeRatePerSecond: 200, liveTasks: 100_000, liveBytes: 512 * 2 ** 20 });
  });

  it('takes QUOTA_* settings, and refuses a bad one naming it', () => {
    expect(loadBrokerConfig(env({ QUOTA_WRITE_RATE: '5', QUOTA_LIVE_TASKS: '10', QUOTA_LIVE_BYTES: '2MiB' })).quotas).toEqual({
      writeRatePerSecond: 5,
      liveTasks: 10,
      liveBytes: 2 * 2 ** 20,
    });
    expect(() => loadBrokerConfig(env({ QUOTA_LIVE_BYTES: 'lots' }))).toThrow(/^  QUOTA_LIVE_BYTES: /m);
    expect(() => loadBrokerConfig(env({ QUOTA_WRITE_RATE: '0' }))).toThrow(/^  QUOTA_WRITE_RATE: /m);
  });
});

describe('broker-api configuration: errors', () => {
  it('names every bad variable at once, without the values of secrets', () => {
    let message = '';
    try {
      loadBrokerConfig({ BIND_ADDR: 'everywhere', SESSION_SECRET: 'c2hvcnQ=', MAX_WAIT: 'long' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toEqual([
      'broker-api: bad configuration:',
      '  BIND_ADDR: expected host:port, got "everywhere"',
      '  ROOTCERT_FILE: required',
      expect.stringMatching(/^ {2}MAX_WAIT: /) as string,
      '  SESSION_SECRET: expected at least 32 bytes, hex or base64, got 5',
    ]);
    expect(message).not.toContain('c2hvcnQ=');
  });

  it('takes the BrokerId from BROKER_URL unless BROKER_ID is set, and refuses a host that is none', () => {
    expect(loadBrokerConfig(env({ BROKER_URL: 'https://broker.example.org' })).brokerId).toBe('broker.example.org');
    expect(loadBrokerConfig(env({ BROKER_URL: 'https://x', BROKER_ID: 'beam.example' })).brokerId).toBe('beam.example');
    expect(() => loadBrokerConfig(env({ BROKER_URL: 'broker:8080' }))).toThrow(/BROKER_URL/);
  });
});

describe('broker-api configuration: the session secret', () => {
  it('takes SESSION_SECRET as hex, base64 or base64url', () => {
    expect(loadBrokerConfig(env()).sessionSecret).toEqual(SECRET);
    expect(loadBrokerConfig(env({ SESSION_SECRET: SECRET.toString('base64') })).sessionSecret).toEqual(SECRET);
    expect(loadBrokerConfig(env({ SESSION_SECRET: SECRET.toString('base64url') })).sessionSecret).toEqual(SECRET);
  });

  it('takes SESSION_SECRET_FILE, a file holding it (a trailing newline is fine)', () => {
    const file = join(dir, 'session-secret');
    writeFileSync(file, `${SECRET.toString('hex')}\n`, { mode: 0o600 });
    expect(loadBrokerConfig(env({ SESSION_SECRET: undefined, SESSION_SECRET_FILE: file })).sessionSecret).toEqual(SECRET);
    expect(() => loadBrokerConfig(env({ SESSION_SECRET: undefined, SESSION_SECRET_FILE: join(dir, 'missing') }))).toThrow(
      /^ {2}SESSION_SECRET_FILE: cannot read .*missing: ENOENT$/m,
    );
  });

  it('is required: without SESSION_SECRET or SESSION_SECRET_FILE nothing starts, and the problem names both', () => {
    expect(() => loadBrokerConfig({ ROOTCERT_FILE: rootCert })).toThrow(/^ {2}SESSION_SECRET: required \(or SESSION_SECRET_FILE\)/m);
    // Reported together with every other bad variable.
    expect(() => loadBrokerConfig({ MAX_WAIT: 'long' })).toThrow(/ROOTCERT_FILE: required[\s\S]*MAX_WAIT: [\s\S]*SESSION_SECRET: required/);
  });

  it('refuses both at once, too short a secret, and one that does not look random', () => {
    const file = join(dir, 'other-secret');
    writeFileSync(file, randomBytes(32).toString('hex'));
    expect(() => loadBrokerConfig(env({ SESSION_SECRET_FILE: file }))).toThrow(/SESSION_SECRET: set either SESSION_SECRET or SESSION_SECRET_FILE, not both/);
    expect(() => loadBrokerConfig(env({ SESSION_SECRET: randomBytes(31).toString('hex') }))).toThrow(/SESSION_SECRET: expected at least 32 bytes/);
    expect(() => loadBrokerConfig(env({ SESSION_SECRET: 'a'.repeat(64) }))).toThrow(/SESSION_SECRET: does not look random/);
    expect(() => loadBrokerConfig(env({ SESSION_SECRET: 'change me: a long passphrase of many words' }))).toThrow(/SESSION_SECRET: expected hex or base64/);
  });
});
