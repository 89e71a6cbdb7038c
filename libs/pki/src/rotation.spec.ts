import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePkiEnvelope, pkiEventSubject } from '@beamline/nats';
import { type PkiEvent } from '@beamline/domain';
import { createCsr } from '@beamline/crypto';
import { initCa, isPkiError, loadCa, PkiDirectory, publishIntermediateRetirement, rotateIntermediate, signCsr, signPkiEvent, type LoadedCa } from './index';

const BITS = 2048;

describe('intermediate rotation', () => {
  let dir: string;
  let before: LoadedCa;
  let after: LoadedCa;
  const proxyKey = generateKeyPairSync('rsa', { modulusLength: BITS }).privateKey;
  const csr = createCsr('proxy1.broker', proxyKey);
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rotation-spec-'));
    before = initCa(join(dir, 'ca'), { bits: BITS });
    after = rotateIntermediate(join(dir, 'ca'), { bits: BITS, now: Date.now() + 2_000 }); // a later notBefore (whole seconds)
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const rootSigned = (event: PkiEvent, ca: LoadedCa = after) => encodePkiEnvelope(signPkiEvent(event, ca.rootKey, ca.root.serial));
  const imSigned = (event: PkiEvent, ca: LoadedCa) => encodePkiEnvelope(signPkiEvent(event, ca.imKey, ca.im.serial));
  const published = (ca: LoadedCa): PkiEvent => ({ type: 'IntermediatePublished', v: 1, serial: ca.im.serial, pem: ca.imCertPem });
  const retired = (ca: LoadedCa): PkiEvent => ({ type: 'IntermediateRetired', v: 1, serial: ca.im.serial, retiredAt: Date.now() });
  const certOf = (ca: LoadedCa): PkiEvent => {
    const issued = signCsr(ca, csr, { proxyId: 'proxy1.broker' });
    return { type: 'CertificatePublished', v: 1, serial: issued.serial, pem: issued.certPem };
  };
  const fold = (d: PkiDirectory, ...messages: [PkiEvent, Uint8Array][]) => messages.map(([e, data]) => d.apply(pkiEventSubject(e), data));
  const statusOf = (d: PkiDirectory, event: PkiEvent) => d.listing().find((c) => c.serial === (event as { serial: string }).serial)?.status;

  it('keeps the previous intermediate beside the new one in the CA directory', () => {
    expect(after.root.serial).toBe(before.root.serial);
    expect(after.im.serial).not.toBe(before.im.serial);
    expect(existsSync(join(dir, 'ca', `im-${before.im.serial}.crt.pem`))).toBe(true);
    expect(existsSync(join(dir, 'ca', `im-${before.im.serial}.key.pem`))).toBe(true);
    expect(loadCa(join(dir, 'ca')).im.serial).toBe(after.im.serial);
  });

  it('trusts the certificates of both intermediates during the overlap, each checked against its issuer', () => {
    const d = new PkiDirectory(after.rootCertPem);
    const oldCert = certOf(before);
    const newCert = certOf(after);
    fold(d, [published(before), rootSigned(published(before))], [published(after), rootSigned(published(after))]);
    fold(d, [oldCert, imSigned(oldCert, before)], [newCert, imSigned(newCert, after)]);
    expect(statusOf(d, oldCert)).toBe('valid');
    expect(statusOf(d, newCert)).toBe('valid');
    expect(d.intermediateListing().map((i) => i.status)).toEqual(['active', 'active']);
  });

  it('refuses every certificate of a retired intermediate, whatever the order of the events', () => {
    const oldCert = certOf(before);
    const newCert = certOf(after);
    const events: [PkiEvent, Uint8Array][] = [
      [published(before), rootSigned(published(before))],
      [published(after), rootSigned(published(after))],
      [oldCert, imSigned(oldCert, before)],
      [newCert, imSigned(newCert, after)],
      [retired(before), rootSigned(retired(before))],
    ];
    for (const order of [events, [...events].reverse(), [events[4], ...events.slice(0, 4)]]) {
      const d = new PkiDirectory(after.rootCertPem);
      fold(d, ...order);
      // Re-publishing the retired intermediate afterwards changes nothing.
      fold(d, [published(before), rootSigned(published(before))]);
      expect(statusOf(d, oldCert)).toBe('untrusted');
      expect(statusOf(d, newCert)).toBe('valid');
      expect(d.intermediateListing().find((i) => i.serial === before.im.serial)?.status).toBe('retired');
    }
  });

  it('lets no event order decide which intermediate is current: re-publishing the old one changes nothing', () => {
    const d = new PkiDirectory(after.rootCertPem);
    fold(d, [published(after), rootSigned(published(after))], [published(before), rootSigned(published(before))]);
    expect(new X509Certificate(d.intermediate() as string).serialNumber.toLowerCase()).toBe(after.im.serial);
    const newCert = certOf(after);
    fold(d, [newCert, imSigned(newCert, after)], [published(before), rootSigned(published(before))]);
    expect(statusOf(d, newCert)).toBe('valid');
  });

  it('counts a retirement from its signed time, so events stored before it still verify in the audit trail', () => {
    const d = new PkiDirectory(after.rootCertPem);
    const oldCert = certOf(before);
    const retiredAt = Date.now();
    const retirement: PkiEvent = { type: 'IntermediateRetired', v: 1, serial: before.im.serial, retiredAt };
    fold(d, [published(before), rootSigned(published(before))], [oldCert, imSigned(oldCert, before)], [retirement, rootSigned(retirement)]);
    expect(d.listing(retiredAt - 1_000).find((c) => c.proxyId === 'proxy1.broker')?.status).toBe('valid');
    expect(d.listing(retiredAt).find((c) => c.proxyId === 'proxy1.broker')?.status).toBe('untrusted');
  });

  it('honours a retirement only when the root signed it', () => {
    const d = new PkiDirectory(after.rootCertPem);
    const oldCert = certOf(before);
    fold(d, [published(before), rootSigned(published(before))], [oldCert, imSigned(oldCert, before)]);
    const byIntermediate = fold(d, [retired(before), imSigned(retired(before), before)]);
    expect(byIntermediate[0]).toMatchObject({ accepted: false, reason: expect.stringMatching(/not signed by the pinned root/) });
    expect(statusOf(d, oldCert)).toBe('valid');
  });

  it('holds events of unknown signers in a bounded buffer and counts what it turns away', () => {
    const d = new PkiDirectory(after.rootCertPem, { maxHeld: 3 });
    const stranger = generateKeyPairSync('rsa', { modulusLength: BITS }).privateKey;
    for (let i = 0; i < 5; i++) {
      const event: PkiEvent = { type: 'CertificateRevoked', v: 1, serial: `ab${i}`, revokedAt: i };
      const data = encodePkiEnvelope(signPkiEvent(event, stranger, `${i}`.padStart(32, 'f')));
      d.apply(pkiEventSubject(event), data);
      d.apply(pkiEventSubject(event), data); // the same event read twice is held once
    }
    expect(d.heldEvents).toEqual({ held: 3, dropped: 4 }); // each refusal counts
  });

  it('refuses to retire the intermediate the CA directory issues with', async () => {
    const refused = await publishIntermediateRetirement({} as never, after, after.im.serial).catch((err: unknown) => err);
    expect(isPkiError(refused) && refused.code).toBe('invalid_input');
  });
});
