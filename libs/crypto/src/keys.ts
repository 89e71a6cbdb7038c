import { KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync } from 'crypto';
import { CryptoError } from './errors';

/** Generates an RSA key pair (public exponent 65537) with Node's native crypto. */
export function generateRsaKeyPair(bits = 2048): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: 0x10001 });
}

/**
 * Parses an unencrypted RSA private key (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY` PEM).
 * @throws CryptoError('malformed') if the PEM is invalid or not an RSA private key.
 */
export function privateKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new CryptoError('malformed', `invalid private key PEM: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new CryptoError('malformed', 'private key is not an RSA key');
  return key;
}

/**
 * Parses an RSA public key from SPKI `PUBLIC KEY` PEM (a certificate or private key PEM is also accepted).
 * @throws CryptoError('malformed') if the PEM is invalid or not an RSA key.
 */
export function publicKeyFromPem(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new CryptoError('malformed', `invalid public key PEM: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new CryptoError('malformed', 'public key is not an RSA key');
  return key;
}

/** Exports a private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }) as string;
}

/** Exports the public key (of a public or private KeyObject) as SPKI PEM (`-----BEGIN PUBLIC KEY-----`). */
export function publicKeyToPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ format: 'pem', type: 'spki' }) as string;
}
