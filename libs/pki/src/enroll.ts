/** The site's side of enrolment: a private key that never leaves the site, and a CSR for the CA. */
import { createCsr, generateRsaKeyPair, privateKeyToPem } from '@beamline/crypto';
import { isValidBeamId } from '@beamline/domain';
import { writeSecret } from './ca-dir';
import { PkiError } from './errors';

/**
 * Returns `proxyId` if it is a valid ProxyId: a BeamId of at least two labels (`<proxy>.<broker id>`).
 * @throws PkiError('invalid_input') naming what is wrong.
 */
export function validateProxyId(proxyId: unknown): string {
  if (!isValidBeamId(proxyId))
    throw new PkiError('invalid_input', `not a valid proxy id: ${JSON.stringify(proxyId)} (expected e.g. proxy1.broker.example.org)`);
  if (proxyId.split('.').length < 2) {
    throw new PkiError(
      'invalid_input',
      `not a valid proxy id: ${JSON.stringify(proxyId)} has one label; a proxy id is <proxy>.<broker id>, e.g. proxy1.broker`,
    );
  }
  return proxyId;
}

/**
 * Generates an RSA key (Node's native crypto), writes it to `keyFile` as PKCS#8 PEM with mode 0600 (never
 * over an existing file) and returns the CSR PEM with CN = `proxyId`. The key itself is never returned.
 * @throws PkiError 'invalid_input' (proxy id, bits) | 'exists' (key file).
 */
export function enroll(proxyId: string, keyFile: string, opts: { bits?: number } = {}): string {
  validateProxyId(proxyId);
  const bits = opts.bits ?? 4096;
  if (!Number.isInteger(bits) || bits < 2048 || bits > 16384) throw new PkiError('invalid_input', `key size must be 2048..16384 bits, got ${bits}`);
  const { privateKey } = generateRsaKeyPair(bits);
  const csr = createCsr(proxyId, privateKey).replace(/\r\n/g, '\n'); // forge writes CRLF
  writeSecret(keyFile, privateKeyToPem(privateKey));
  return csr;
}
