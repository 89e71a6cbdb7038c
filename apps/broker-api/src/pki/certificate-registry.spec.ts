import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeJson, encodePkiEnvelope, subjects } from '@beamline/nats';
import { type PkiEvent } from '@beamline/domain';
import { enroll, initCa, signCsr, signPkiEvent } from '@beamline/pki';
import { VerifiedDirectory } from './certificate-registry';

describe('the broker registry folding BEAM_PKI', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'registry-spec-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ignores an unsigned CertificateRevoked with a warning, honours the CA-signed one', () => {
    const ca = initCa(join(dir, 'ca'), { bits: 2048 });
    const cert = signCsr(ca, enroll('proxy1.broker', join(dir, 'k.pem'), { bits: 2048 }), { proxyId: 'proxy1.broker' });
    const warnings: string[] = [];
    const view = new VerifiedDirectory(ca.rootCertPem, (w) => warnings.push(w));
    let seq = 0;
    const feed = (subject: string, data: Uint8Array) => view.apply({ subject, seq: ++seq, data });
    const signed = (e: PkiEvent, key = ca.imKey, kid = ca.im.serial) => encodePkiEnvelope(signPkiEvent(e, key, kid));
    feed(subjects.intermediatePublished, signed({ type: 'IntermediatePublished', v: 1, pem: ca.imCertPem }, ca.rootKey, ca.root.serial));
    feed(subjects.certificatePublished(cert.serial), signed({ type: 'CertificatePublished', v: 1, serial: cert.serial, pem: cert.certPem }));
    expect(warnings).toEqual([]);
    const revocation: PkiEvent = { type: 'CertificateRevoked', v: 1, serial: cert.serial, revokedAt: Date.now() };
    feed(subjects.certificateRevoked(cert.serial), encodeJson(revocation));
    expect(warnings).toEqual([expect.stringMatching(/ignoring PKI event #3 on beam\.pki\.revoked\..*not a CA-signed event/)]);
    expect(view.directory.isRevoked(cert.serial)).toBe(false);
    expect(() => view.directory.verify(view.directory.get(cert.serial)!, Date.now(), 'proxy1.broker')).not.toThrow();
    feed(subjects.certificateRevoked(cert.serial), signed(revocation));
    expect(warnings).toHaveLength(1);
    expect(view.directory.isRevoked(cert.serial)).toBe(true);
  });

  it("finds a proxy's certificates by its id without walking the directory", () => {
    const ca = initCa(join(dir, 'ca-named'), { bits: 2048 });
    const view = new VerifiedDirectory(ca.rootCertPem, () => undefined);
    let seq = 0;
    const feed = (subject: string, e: PkiEvent, key = ca.imKey, kid = ca.im.serial) =>
      view.apply({ subject, seq: ++seq, data: encodePkiEnvelope(signPkiEvent(e, key, kid)) });
    feed(subjects.intermediatePublished, { type: 'IntermediatePublished', v: 1, pem: ca.imCertPem }, ca.rootKey, ca.root.serial);
    const serials: Record<string, string[]> = {};
    for (const [i, proxyId] of ['proxy1.broker', 'proxy2.broker', 'proxy1.broker'].entries()) {
      const cert = signCsr(ca, enroll(proxyId, join(dir, `named-${i}.pem`), { bits: 2048 }), { proxyId });
      feed(subjects.certificatePublished(cert.serial), { type: 'CertificatePublished', v: 1, serial: cert.serial, pem: cert.certPem });
      (serials[proxyId] ??= []).push(cert.serial);
    }
    expect(
      view.directory
        .named('proxy1.broker')
        .map((c) => c.serial)
        .sort(),
    ).toEqual(serials['proxy1.broker'].sort());
    expect(view.directory.named('proxy2.broker').map((c) => c.serial)).toEqual(serials['proxy2.broker']);
    expect(view.directory.named('proxy3.broker')).toEqual([]);
  });
});
