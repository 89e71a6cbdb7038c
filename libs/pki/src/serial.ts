import { PkiError } from './errors';

/**
 * A certificate serial as Beamline writes it: lowercase hex, no colons. Accepts upper case and
 * colon-separated input (as `openssl x509 -serial` prints it).
 * @throws PkiError('invalid_input').
 */
export function normaliseSerial(serial: string): string {
  const s = serial.trim().replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{2,64}$/.test(s)) throw new PkiError('invalid_input', `not a certificate serial (hex): ${JSON.stringify(serial)}`);
  return s;
}
