import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCsr } from '@beamline/crypto';
import type { PkiEvent } from '@beamline/domain';
import { pkiEventSubject } from '@beamline/nats';
import { initCa, signCsr, signPkiEvent, type LoadedCa } from '@beamline/pki';
import type { BrokerClient } from '../broker/broker-client';
import type { ProxyIdentity } from '../broker/proxy-identity';
import type { ProxyConfig } from '../config';
import { CertificateDirectory } from './certificate-directory';

/**
 * The directory as a proxy holds it, against a broker stand-in that serves `GET /v1/pki/events` from a list the
 * test appends to (the signatures are real: the directory folds CA-signed events).
 */
describe('CertificateDirectory', () => {
  let dir: string;
  let ca: LoadedCa;
  const keyOf = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const ownKey = keyOf();
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'certificate-directory-spec-'));
    ca = initCa(join(dir, 'ca'), { bits: 2048 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function network(): { directory: CertificateDirectory; publish(event: PkiEvent, kid?: 'root' | 'im'): void; enrol(id: string, key: KeyObject): string } {
    const events: { seq: number; subject: string; jws: string }[] = [];
    const publish = (event: PkiEvent, by: 'root' | 'im' = 'im') =>
      events.push({
        seq: events.length + 1,
        subject: pkiEventSubject(event),
        jws: by === 'root' ? signPkiEvent(event, ca.rootKey, ca.root.serial) : signPkiEvent(event, ca.imKey, ca.im.serial),
      });
    const enrol = (id: string, key: KeyObject): string => {
      const issued = signCsr(ca, createCsr(id, key), { proxyId: id });
      publish({ type: 'CertificatePublished', v: 1, serial: issued.serial, pem: issued.certPem });
      return issued.serial;
    };
    publish({ type: 'IntermediatePublished', v: 1, serial: ca.im.serial, pem: ca.imCertPem }, 'root');
    const broker = {
      send: (_method: string, path: string) => {
        const after = Number(/after=(\d+)/.exec(path)?.[1] ?? 0);
        return Promise.resolve({ status: 200, headers: {}, body: { events: events.filter((e) => e.seq > after) } });
      },
      expect: <R>(res: R) => res,
    } as unknown as BrokerClient;
    const identity = { proxyId: 'proxy1.broker', privateKey: ownKey, serial: undefined } as unknown as ProxyIdentity;
    const config = { rootCertPem: ca.rootCertPem, certRefreshMs: 60_000, certResyncMs: 600_000 } as unknown as ProxyConfig;
    return { directory: new CertificateDirectory(broker, identity, config), publish, enrol };
  }

  it('finds a certificate published just after a refresh: it waits for the next refresh rather than refusing', async () => {
    const net = network();
    net.enrol('proxy1.broker', ownKey);
    await net.directory.refresh();
    const serial = net.enrol('proxy2.broker', keyOf()); // a peer re-enrolled a moment later
    const started = Date.now();
    expect((await net.directory.bySerialNumber(serial))?.commonName).toBe('proxy2.broker');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up at once on a known certificate that a refresh cannot make usable (revoked)', async () => {
    const net = network();
    const serial = net.enrol('proxy2.broker', keyOf());
    net.publish({ type: 'CertificateRevoked', v: 1, serial, revokedAt: Date.now() });
    await net.directory.refresh();
    const started = Date.now();
    expect(await net.directory.bySerialNumber(serial)).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(200);
  });
});
