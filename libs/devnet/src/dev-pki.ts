import { type CaBundle } from '@beamline/crypto';
import { CA_FILES, enroll, initCa, signCsr, type LoadedCa } from '@beamline/pki';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A dev CA and one enrolled key and certificate per proxy, written to a directory. */
export interface DevPki {
  /** The CA's certificates and keys. */
  ca: CaBundle;
  /** The same CA as `beamline pki` loads it (what the signed publish functions of @beamline/pki take). */
  loadedCa: LoadedCa;
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
 * The dev network's PKI, made with the code of `beamline pki` (@beamline/pki): `initCa` writes the CA
 * directory (`root.crt.pem`, `root.key.pem`, `im.crt.pem`, `im.key.pem`) into `dir` (created if missing;
 * refuses a directory that already holds a CA), then each proxy is enrolled as a site would do it (`enroll`:
 * key generated locally and written 0600 to `<proxyId>.priv.pem`, CSR) and signed by the CA (`signCsr`,
 * certificate in `<proxyId>.crt.pem`). Keys are 2048-bit by default: fast enough for tests.
 */
export function generateDevPki(dir: string, proxyIds: string[], opts: { bits?: number } = {}): DevPki {
  const bits = opts.bits ?? 2048;
  mkdirSync(dir, { recursive: true });
  const loadedCa = initCa(dir, { rootCn: 'Beamline Dev Root CA', imCn: 'Beamline Dev Intermediate CA', bits });
  const ca: CaBundle = {
    rootCertPem: loadedCa.rootCertPem,
    rootKeyPem: readFileSync(join(dir, CA_FILES.rootKey), 'utf8'),
    imCertPem: loadedCa.imCertPem,
    imKeyPem: loadedCa.imKeyPem,
  };
  const proxies = proxyIds.map((id): DevPkiProxy => {
    const keyFile = join(dir, `${id}.priv.pem`);
    const csr = enroll(id, keyFile, { bits });
    const issued = signCsr(loadedCa, csr, { proxyId: id });
    writeFileSync(join(dir, `${id}.crt.pem`), issued.certPem);
    return { id, keyFile, certPem: issued.certPem, serial: issued.serial };
  });
  return { ca, loadedCa, rootCertFile: join(dir, CA_FILES.rootCert), proxies };
}
