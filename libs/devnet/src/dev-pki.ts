import { createCa, createCsr, generateRsaKeyPair, issueCertificate, parseCertificate, privateKeyToPem, type CaBundle } from '@beamline/crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A dev CA and one enrolled key and certificate per proxy, written to a directory. */
export interface DevPki {
  /** The CA's certificates and keys (kept in memory only; nothing but the dev network uses them). */
  ca: CaBundle;
  /** `<dir>/root.crt.pem`, what ROOTCERT_FILE points at. */
  rootCertFile: string;
  proxies: DevPkiProxy[];
}

export interface DevPkiProxy {
  id: string;
  /** `<dir>/<id>.priv.pem` (PKCS#8, mode 0600), what the proxy's PRIVKEY_FILE points at. */
  keyFile: string;
  certPem: string;
  serial: string;
}

/**
 * Creates a root and intermediate CA and enrols each proxy the way a real site does (key generated
 * locally, CSR, certificate issued by the intermediate). Writes `root.crt.pem`, `im.crt.pem` and per proxy
 * `<proxyId>.priv.pem` and `<proxyId>.crt.pem` into `dir` (created if missing). Keys are 2048-bit by
 * default: fast enough for tests.
 */
export function generateDevPki(dir: string, proxyIds: string[], opts: { bits?: number } = {}): DevPki {
  const bits = opts.bits ?? 2048;
  mkdirSync(dir, { recursive: true });
  const ca = createCa({ rootCn: 'Beamline Dev Root CA', imCn: 'Beamline Dev Intermediate CA', bits });
  const rootCertFile = join(dir, 'root.crt.pem');
  writeFileSync(rootCertFile, ca.rootCertPem);
  writeFileSync(join(dir, 'im.crt.pem'), ca.imCertPem);
  const proxies = proxyIds.map((id): DevPkiProxy => {
    const { privateKey } = generateRsaKeyPair(bits);
    const keyFile = join(dir, `${id}.priv.pem`);
    writeFileSync(keyFile, privateKeyToPem(privateKey), { mode: 0o600 });
    chmodSync(keyFile, 0o600); // `mode` only applies when the file is new
    const certPem = issueCertificate(createCsr(id, privateKey), ca, { expectedCn: id });
    writeFileSync(join(dir, `${id}.crt.pem`), certPem);
    return { id, keyFile, certPem, serial: parseCertificate(certPem).serial };
  });
  return { ca, rootCertFile, proxies };
}
