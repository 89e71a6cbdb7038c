/** Direct access to the event log, as an operator (or an attacker with NATS access) would have. */
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectNats, decodeJson, encodeJson, EVENTS_STREAM, subjects } from '@beamline/nats';
import { originalSubject } from '@beamline/audit';

export class StreamAccess {
  private constructor(
    readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
  ) {}

  static async open(natsUrl: string): Promise<StreamAccess> {
    const nc = await connectNats(natsUrl, 'test-stream-access');
    return new StreamAccess(nc, await jetstreamManager(nc));
  }

  async close(): Promise<void> {
    await this.nc.close();
  }

  /** Every message currently in a stream, raw. */
  /** Every message of `stream`; `origin` is the subject an audit copy copies (its own subject otherwise). */
  async allMessages(stream = EVENTS_STREAM): Promise<Array<{ seq: number; subject: string; origin: string; data: Uint8Array }>> {
    const info = await this.jsm.streams.info(stream);
    const out: Array<{ seq: number; subject: string; origin: string; data: Uint8Array }> = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await this.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (m) out.push({ seq: m.seq, subject: m.subject, origin: originalSubject(m.subject, m.header), data: m.data });
    }
    return out;
  }

  async taskCreated(taskId: string): Promise<Record<string, unknown>> {
    const m = await this.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.taskCreated(taskId) });
    return decodeJson(m!.data) as Record<string, unknown>;
  }

  async resultPut(taskId: string, app: string): Promise<Record<string, unknown>> {
    const m = await this.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.taskResult(taskId, app) });
    return decodeJson(m!.data) as Record<string, unknown>;
  }

  /** Appends a raw event, bypassing broker-api and all of its checks. */
  async inject(subject: string, event: unknown): Promise<number> {
    return (await jetstream(this.nc).publish(subject, encodeJson(event))).seq;
  }
}

/** Rewrites a compact JWS's payload, keeping the original header and signature. */
export function tamperJws(jws: string, mutate: (payload: Record<string, unknown>) => void): string {
  const [header, payload, signature] = jws.split('.');
  const json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  mutate(json);
  return [header, Buffer.from(JSON.stringify(json)).toString('base64url'), signature].join('.');
}

/** Flips one bit in the middle of a base64 string's decoded bytes. */
export function flipBit(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[Math.floor(bytes.length / 2)] ^= 0x01;
  return bytes.toString('base64');
}
