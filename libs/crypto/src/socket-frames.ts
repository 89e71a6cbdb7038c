/**
 * Direct-socket stream encryption (the one module owning the format). Each direction of a socket is a
 * sequence of frames
 *
 *   frame = u32 big-endian length L ‖ ChaCha20-Poly1305 ciphertext ‖ tag(16)     (L = ciphertext + tag)
 *
 * under that direction's 256-bit key, nonce = 4 zero bytes ‖ u64 big-endian frame counter (0, 1, 2, …),
 * AAD = one byte, the frame type: 0x00 data (1..MAX_FRAME_PLAINTEXT bytes), 0x01 final (empty plaintext).
 * The final frame marks the clean end of the direction: a stream that ends without it was truncated;
 * anything after it, a reordered, replayed, altered or foreign frame fails authentication.
 */
import { createCipheriv, createDecipheriv } from 'crypto';
import { CryptoError } from './errors';

export const MAX_FRAME_PLAINTEXT = 64 * 1024;
const TAG_BYTES = 16;
const HEADER_BYTES = 4;
const MAX_FRAME_BODY = MAX_FRAME_PLAINTEXT + TAG_BYTES;
const TYPE_DATA = Buffer.from([0]);
const TYPE_FINAL = Buffer.from([1]);

function nonceFor(counter: bigint): Buffer {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64BE(counter, 4);
  return nonce;
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new CryptoError('malformed', 'socket frame key must be 32 bytes');
}

/** Seals one direction's plaintext into frames. */
export class FrameSealer {
  private counter = 0n;
  private finished = false;

  constructor(private readonly key: Uint8Array) {
    checkKey(key);
  }

  /** Frames carrying `plaintext` (split at MAX_FRAME_PLAINTEXT); empty input gives no frame. */
  seal(plaintext: Uint8Array): Buffer[] {
    const out: Buffer[] = [];
    for (let off = 0; off < plaintext.length; off += MAX_FRAME_PLAINTEXT) {
      out.push(this.frame(TYPE_DATA, plaintext.subarray(off, Math.min(plaintext.length, off + MAX_FRAME_PLAINTEXT))));
    }
    return out;
  }

  /** The final frame; nothing may be sealed after it. */
  final(): Buffer {
    const f = this.frame(TYPE_FINAL, new Uint8Array(0));
    this.finished = true;
    return f;
  }

  private frame(type: Buffer, plaintext: Uint8Array): Buffer {
    if (this.finished) throw new CryptoError('malformed', 'socket stream already finished');
    const cipher = createCipheriv('chacha20-poly1305', this.key, nonceFor(this.counter++), { authTagLength: TAG_BYTES });
    cipher.setAAD(type, { plaintextLength: plaintext.length });
    const out = Buffer.allocUnsafe(HEADER_BYTES + plaintext.length + TAG_BYTES);
    out.writeUInt32BE(plaintext.length + TAG_BYTES, 0);
    const ct = cipher.update(plaintext);
    ct.copy(out, HEADER_BYTES);
    cipher.final();
    cipher.getAuthTag().copy(out, HEADER_BYTES + ct.length);
    return out;
  }
}

/** Opens one direction's frames; feed it bytes as they arrive. */
export class FrameOpener {
  private counter = 0n;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private finished = false;

  constructor(private readonly key: Uint8Array) {
    checkKey(key);
  }

  /** True once the final frame was opened (the direction ended cleanly). */
  get done(): boolean {
    return this.finished;
  }

  /**
   * The plaintext of every complete frame in the bytes received so far.
   * @throws CryptoError('decrypt_failed') on any tampering, reordering, replay or data after the final frame;
   *         CryptoError('malformed') on an impossible frame length.
   */
  push(bytes: Uint8Array): Buffer[] {
    if (bytes.length > 0) {
      this.chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      this.buffered += bytes.length;
    }
    const out: Buffer[] = [];
    while (this.buffered >= HEADER_BYTES) {
      const head = this.peek(HEADER_BYTES);
      const len = head.readUInt32BE(0);
      if (len < TAG_BYTES || len > MAX_FRAME_BODY) throw new CryptoError('malformed', `socket frame length ${len} out of range`);
      if (this.buffered < HEADER_BYTES + len) break;
      const frame = this.take(HEADER_BYTES + len).subarray(HEADER_BYTES);
      if (this.finished) throw new CryptoError('decrypt_failed', 'socket frame after the final frame');
      const plaintext = this.open(frame);
      if (plaintext) out.push(plaintext);
    }
    return out;
  }

  /** Call when the transport ended. @throws CryptoError('decrypt_failed') if the stream was truncated. */
  end(): void {
    if (!this.finished || this.buffered > 0) throw new CryptoError('decrypt_failed', 'socket stream truncated (no final frame)');
  }

  private open(frame: Buffer): Buffer | undefined {
    const ct = frame.subarray(0, frame.length - TAG_BYTES);
    const tag = frame.subarray(frame.length - TAG_BYTES);
    const nonce = nonceFor(this.counter);
    const type = ct.length === 0 ? TYPE_FINAL : TYPE_DATA;
    try {
      const d = createDecipheriv('chacha20-poly1305', this.key, nonce, { authTagLength: TAG_BYTES });
      d.setAAD(type, { plaintextLength: ct.length });
      d.setAuthTag(tag);
      const pt = d.update(ct);
      d.final();
      this.counter++;
      if (type === TYPE_FINAL) {
        this.finished = true;
        return undefined;
      }
      return pt;
    } catch {
      throw new CryptoError('decrypt_failed', `socket frame ${this.counter} failed authentication`);
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    let out: Buffer;
    if (this.chunks[0].length >= n) {
      out = this.chunks[0].subarray(0, n);
      if (this.chunks[0].length === n) this.chunks.shift();
      else this.chunks[0] = this.chunks[0].subarray(n);
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = all.length > n ? [all.subarray(n)] : [];
    }
    this.buffered -= n;
    return out;
  }
}
