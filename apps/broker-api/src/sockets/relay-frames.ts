/**
 * The one place that knows the relay's wire format between two broker-api ends (relay-link.ts says what each
 * frame means). Offsets and counts are unsigned 48-bit big-endian: a stream may carry up to 256 TiB.
 *
 *   D ‖ offset ‖ bytes                          data at a byte offset of this direction
 *   E ‖ offset                                  end of this direction (FIN) after `offset` bytes
 *   A ‖ received ‖ written ‖ flags(u8) ‖ probe  cumulative ack
 *   P ‖ sent ‖ flags(u8)                        probe / heartbeat
 *   X                                           abort (reset)
 */
const T_DATA = 0x44;
const T_END = 0x45;
const T_ACK = 0x41;
const T_PROBE = 0x50;
const T_ABORT = 0x58;
const U48 = 6;

/** Ack flags. */
export const F_END_RECEIVED = 1;
export const F_GAP = 2;
export const F_PROBED = 4;
/** The probe answered had its sender's FIN sent (P_END_SENT echoed). */
export const F_PROBED_END = 8;
/** Probe flag: the prober had sent its FIN. */
export const P_END_SENT = 1;

export type RelayFrame =
  | { t: 'data'; offset: number; bytes: Buffer }
  | { t: 'end'; offset: number }
  | { t: 'ack'; received: number; written: number; flags: number; probe: number }
  | { t: 'probe'; sent: number; flags: number }
  | { t: 'abort' };

/** Tells a peer to reset (also before its RelayLink started). */
export const RELAY_ABORT_MESSAGE: Uint8Array = Uint8Array.of(T_ABORT);

/** The frame in `m`, or undefined for anything too short or unknown (ignored: the peer's next probe recovers). */
export function decodeFrame(m: Buffer): RelayFrame | undefined {
  switch (m[0]) {
    case T_DATA:
      return m.length > 1 + U48 ? { t: 'data', offset: m.readUIntBE(1, U48), bytes: m.subarray(1 + U48) } : undefined;
    case T_END:
      return m.length >= 1 + U48 ? { t: 'end', offset: m.readUIntBE(1, U48) } : undefined;
    case T_ACK:
      return m.length >= 2 + 3 * U48
        ? { t: 'ack', received: m.readUIntBE(1, U48), written: m.readUIntBE(1 + U48, U48), flags: m[1 + 2 * U48], probe: m.readUIntBE(2 + 2 * U48, U48) }
        : undefined;
    case T_PROBE:
      return m.length >= 2 + U48 ? { t: 'probe', sent: m.readUIntBE(1, U48), flags: m[1 + U48] } : undefined;
    case T_ABORT:
      return { t: 'abort' };
    default:
      return undefined;
  }
}

export function dataFrame(offset: number, bytes: Buffer): Buffer {
  const m = Buffer.allocUnsafe(1 + U48 + bytes.length);
  m[0] = T_DATA;
  m.writeUIntBE(offset, 1, U48);
  bytes.copy(m, 1 + U48);
  return m;
}

export function endFrame(offset: number): Buffer {
  const m = Buffer.allocUnsafe(1 + U48);
  m[0] = T_END;
  m.writeUIntBE(offset, 1, U48);
  return m;
}

export function ackFrame(received: number, written: number, flags: number, probe: number): Buffer {
  const m = Buffer.allocUnsafe(2 + 3 * U48);
  m[0] = T_ACK;
  m.writeUIntBE(received, 1, U48);
  m.writeUIntBE(written, 1 + U48, U48);
  m[1 + 2 * U48] = flags;
  m.writeUIntBE(probe, 2 + 2 * U48, U48);
  return m;
}

export function probeFrame(sent: number, endSent: boolean): Buffer {
  const m = Buffer.allocUnsafe(2 + U48);
  m[0] = T_PROBE;
  m.writeUIntBE(sent, 1, U48);
  m[1 + U48] = endSent ? P_END_SENT : 0;
  return m;
}
