import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBrokerConfig } from './config';
import { DEFAULT_RELAY_LINK_OPTIONS } from './sockets/relay-link';

const rootCert = join(mkdtempSync(join(tmpdir(), 'broker-config-')), 'root.pem');
writeFileSync(rootCert, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ROOTCERT_FILE: rootCert, ...extra });

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
