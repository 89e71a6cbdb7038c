import { KeyObject } from 'crypto';
import { generateRsaKeyPair } from './keys';

/** Test helper: 2048-bit key pairs generated once per test file (module-level cache). */
const cache: Array<{ privateKey: KeyObject; publicKey: KeyObject }> = [];
export function testKeys(n: number): Array<{ privateKey: KeyObject; publicKey: KeyObject }> {
  while (cache.length < n) cache.push(generateRsaKeyPair(2048));
  return cache.slice(0, n);
}
