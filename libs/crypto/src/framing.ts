/** Byte framing shared by the sealed formats (libs/crypto/README.md states it): integers, strings, OAEP parameters. */
import { constants, type KeyObject } from 'crypto';

/** u32be(n). */
export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** A length-prefixed string: u32be(byte length) ‖ UTF-8 bytes. */
export function lp(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([u32(bytes.length), bytes]);
}

/** RSA-OAEP with SHA-256 (and MGF1-SHA-256) under `label`, for wrapping a 32-byte key. */
export function oaep(key: KeyObject, label: Buffer): { key: KeyObject; padding: number; oaepHash: string; oaepLabel: Buffer } {
  return { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: label };
}
