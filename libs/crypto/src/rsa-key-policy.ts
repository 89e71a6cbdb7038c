/**
 * RSA keys that protect something. A public exponent of 1 makes "signing" the identity (anyone can forge a
 * signature and any CSR self-signature "verifies") and RSA-OAEP wrapping readable by all; small exponents invite
 * well-known attacks. So the CA issues, and every certificate parser accepts, RSA keys only with an odd exponent
 * from 65537 to 2³²−1 and a modulus of at least 2048 bits.
 */
import type { KeyObject } from 'node:crypto';
import { CryptoError } from './errors';

export const MIN_RSA_BITS = 2048;
const MIN_EXPONENT = 65537n;
const MAX_EXPONENT = 2n ** 32n - 1n;

/** Why an RSA public key with this modulus length and exponent protects nothing, or undefined when it is fine. */
export function rsaKeyProblem(modulusBits: number, exponent: bigint): string | undefined {
  if (modulusBits < MIN_RSA_BITS) return `an RSA modulus of ${modulusBits} bits; at least ${MIN_RSA_BITS} are required`;
  if (exponent % 2n === 0n || exponent < MIN_EXPONENT || exponent > MAX_EXPONENT) {
    return `an RSA public exponent of ${exponent}; only an odd exponent from 65537 to 2^32-1 is accepted`;
  }
  return undefined;
}

/** @throws CryptoError('weak_key') unless `key` is an RSA public key that {@link rsaKeyProblem} accepts. */
export function assertUsableRsaKey(key: KeyObject, what: string): void {
  const details = key.asymmetricKeyDetails;
  if ((key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') || !details?.modulusLength || details.publicExponent === undefined) {
    throw new CryptoError('weak_key', `${what}: expected an RSA key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  }
  const problem = rsaKeyProblem(details.modulusLength, details.publicExponent);
  if (problem) throw new CryptoError('weak_key', `${what}: ${problem}`);
}
