import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { natsConnectOptions } from './connection';
import { loadNatsSettings, parseNatsServers } from './nats-env';
import { isTransientNatsError } from './startup-retry';
import { NoRespondersError, RequestError, TimeoutError } from '@nats-io/nats-core';

const dir = mkdtempSync(join(tmpdir(), 'nats-env-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
};
const PEM = (what: string) => `-----BEGIN ${what}-----\nAAAA\n-----END ${what}-----\n`;
const ca = file('ca.pem', PEM('CERTIFICATE'));
const cert = file('client.pem', PEM('CERTIFICATE'));
const key = file('client.key', PEM('PRIVATE KEY'));
const password = file('password', 'correct horse\n');

describe('NATS connection settings from the environment', () => {
  it('is the servers alone by default: no login, no TLS', () => {
    expect(loadNatsSettings('cli', {})).toEqual({ servers: 'nats://127.0.0.1:4222' });
    expect(natsConnectOptions('nats://a:4222, nats://b:4222')).toEqual({ servers: ['nats://a:4222', 'nats://b:4222'] });
  });

  it('logs in with NATS_USER and the password in NATS_PASSWORD_FILE (without its trailing newline), over TLS', () => {
    const s = loadNatsSettings('cli', {
      NATS_URL: 'nats://n:4222',
      NATS_USER: 'ca',
      NATS_PASSWORD_FILE: password,
      NATS_TLS_CA: ca,
      NATS_TLS_CERT: cert,
      NATS_TLS_KEY: key,
    });
    expect(s).toEqual({
      servers: 'nats://n:4222',
      login: { user: 'ca', password: 'correct horse' },
      tls: { ca: PEM('CERTIFICATE'), cert: PEM('CERTIFICATE'), key: PEM('PRIVATE KEY') },
    });
    expect(natsConnectOptions(s)).toMatchObject({ servers: ['nats://n:4222'], user: 'ca', pass: 'correct horse', tls: { ca: PEM('CERTIFICATE') } });
  });

  it('logs in with a .creds file through nats.js credsAuthenticator', () => {
    const creds = file('user.creds', '-----BEGIN NATS USER JWT-----\nx\n------END NATS USER JWT------\n');
    const s = loadNatsSettings('cli', { NATS_CREDS: creds });
    expect(Buffer.from((s.login as { creds: Uint8Array }).creds).toString()).toContain('NATS USER JWT');
    expect(typeof natsConnectOptions(s).authenticator).toBe('function');
  });

  it('--nats-url takes the place of NATS_URL', () => {
    expect(loadNatsSettings('cli', { NATS_URL: 'nats://env:4222' }, 'nats://flag:4222').servers).toBe('nats://flag:4222');
  });

  it('names every bad or incomplete variable at once, never a password', () => {
    let message = '';
    try {
      loadNatsSettings('beamline', {
        NATS_USER: 'broker-api',
        NATS_TLS_CA: join(dir, 'missing.pem'),
        NATS_TLS_CERT: password,
        NATS_CREDS: password,
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n')).toHaveLength(6); // the heading and five problems
    expect(message).toContain('NATS_PASSWORD_FILE: required with NATS_USER');
    expect(message).toContain('NATS_CREDS: set either NATS_CREDS or NATS_USER, not both');
    expect(message).toContain('NATS_TLS_CERT: NATS_TLS_CERT and NATS_TLS_KEY go together');
    expect(message).toMatch(/NATS_TLS_CA: cannot read .*missing\.pem: ENOENT/);
    expect(message).toMatch(/NATS_TLS_CERT: .*password holds no PEM certificate/);
    expect(message).not.toContain('correct horse');
  });

  it('takes nats:// and tls:// URLs (or host:port) with a host and a port, and nothing else', () => {
    expect(parseNatsServers('nats://n1:4222, tls://u:p@n2:4443,127.0.0.1:4222,nats://[::1]:4222')).toBe(
      'nats://n1:4222,tls://u:p@n2:4443,127.0.0.1:4222,nats://[::1]:4222',
    );
    expect(() => parseNatsServers('http://nats:4222')).toThrow('expected nats://host:port (comma-separated for several), got "http://nats:4222"');
    expect(() => parseNatsServers('nats://nats.example.org')).toThrow(/the port is missing/);
    expect(() => parseNatsServers('ws://nats:8080')).toThrow(/WebSocket URLs are not supported/);
    expect(() => parseNatsServers('nats://:4222')).toThrow(/expected nats:\/\/host:port/);
    expect(() => parseNatsServers('nats://n1:4222/path')).toThrow(/expected nats:\/\/host:port/);
  });
});

describe('transient NATS failures at start-up', () => {
  it('are timeouts and no responders, also wrapped; not other errors', () => {
    expect(isTransientNatsError(new TimeoutError())).toBe(true);
    expect(isTransientNatsError(new RequestError('no responders', { cause: new NoRespondersError('$JS.API.INFO') }))).toBe(true);
    expect(isTransientNatsError(new Error('insufficient storage resources'))).toBe(false);
    expect(isTransientNatsError('timeout')).toBe(false);
  });
});
