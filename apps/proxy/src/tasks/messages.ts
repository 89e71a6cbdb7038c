/**
 * End-to-end protection at the proxy. Outbound: seal the body for every recipient's proxy certificate, add a
 * keyed digest (so an identical retry is recognised without revealing plaintext), sign. Inbound: verify the
 * signature against a validated certificate that can sign for `from`, check the message is the one asked
 * for, and open the body if the reader is a recipient. Anything that fails is refused, never shown.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { canonicalJson, keyedDigest, openBody, readJwsKid, sealBody, signMessage, verifyMessage } from '@beamline/crypto';
import {
  canSignFor,
  expectObject,
  field,
  formatRemainingTtl,
  parseLogEvent,
  parseSealedResult,
  parseSealedTask,
  proxyIdOf,
  RecipientsWithoutCertificate,
  type LogEvent,
  type ResultInput,
  type SealedResult,
  type SealedTask,
  type TaskInput,
  type WorkStatus,
} from '@beamline/domain';
import { ProxyIdentity } from '../broker/proxy-identity';
import { OpenedMessages } from './opened-messages';
import { PROXY_CONFIG, type ProxyConfig } from '../config';
import { CertificateDirectory } from '../pki/certificate-directory';

/** A task as apps see it: what its sender posted, in Samply.Beam's field order (`ttl` is what remains). */
export type TaskOutput = TaskInput;

export interface ResultOutput {
  from: string;
  to: string[];
  task: string;
  status: WorkStatus;
  body?: string;
  metadata: unknown;
}

const NOT_FOR_YOU = '<encrypted>';

/**
 * The event of one line the broker streamed (`{"seq":N,"event":{…}}`), if it is of `type`. Throws otherwise:
 * the caller refuses the line like any message that fails verification.
 */
export function eventOfLine<T extends LogEvent['type']>(line: unknown, type: T): Extract<LogEvent, { type: T }> {
  const event = parseLogEvent(field(expectObject(line, 'line'), 'event'));
  if (event.type !== type) throw new Error(`expected a ${type}, the broker sent a ${event.type}`);
  return event as Extract<LogEvent, { type: T }>;
}
/** What the broker accepted is opened whatever the limits say now (they may have been lowered since). */
const NO_LIMITS = { maxTtlMs: Number.MAX_SAFE_INTEGER, maxRecipients: Number.MAX_SAFE_INTEGER };

@Injectable()
export class Messages {
  private readonly logger = new Logger('Messages');
  private readonly opened: OpenedMessages;

  constructor(
    private readonly directory: CertificateDirectory,
    private readonly identity: ProxyIdentity,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {
    this.opened = new OpenedMessages(async (kid) => (await this.directory.bySerialNumber(kid)) !== undefined);
  }

  async sealTask(task: TaskInput): Promise<string> {
    const keys = await this.recipientKeys(task.to);
    const { body, ...rest } = task;
    const sealed: SealedTask = { ...rest, ...sealBody(body, keys), digest: keyedDigest(this.identity.digestKey, canonicalJson(task)) };
    return this.sign(sealed);
  }

  async sealResult(result: ResultInput): Promise<string> {
    const { body, ...rest } = result;
    const sealed: SealedResult = body === undefined ? rest : { ...rest, ...sealBody(body, await this.recipientKeys(result.to)) };
    return this.sign(sealed);
  }

  /** The task of a streamed line as `reader` may see it, or undefined (logged) when it fails verification. */
  async openTask(line: unknown, reader: string, expectedId?: string): Promise<TaskOutput | undefined> {
    try {
      const item = eventOfLine(line, 'TaskCreated');
      const task = await this.opened.open(reader, item.message, () => this.openTaskMessage(item.message, reader));
      if (expectedId !== undefined && task.id !== expectedId) throw new Error(`broker returned task ${task.id} for ${expectedId}`);
      // Samply.Beam's field order; the ttl is what remains now.
      return {
        id: task.id,
        from: task.from,
        to: task.to,
        body: task.body,
        failure_strategy: task.failure_strategy,
        ttl: formatRemainingTtl(item.expiresAt - Date.now()),
        metadata: task.metadata,
      };
    } catch (err) {
      this.logger.warn(`refusing a task message: ${String((err as Error).message ?? err)}`);
      return undefined;
    }
  }

  /** The result of a streamed line as `reader` may see it, or undefined (logged) when it fails verification. */
  async openResult(line: unknown, reader: string, taskId: string): Promise<ResultOutput | undefined> {
    try {
      const { message } = eventOfLine(line, 'ResultPut');
      const result = await this.opened.open(reader, message, () => this.openResultMessage(message, reader));
      if (result.task !== taskId) throw new Error(`broker returned a result of task ${result.task} for ${taskId}`);
      return result;
    } catch (err) {
      this.logger.warn(`refusing a result message: ${String((err as Error).message ?? err)}`);
      return undefined;
    }
  }

  private async openTaskMessage(jws: string, reader: string): Promise<Omit<TaskOutput, 'ttl'>> {
    const task = parseSealedTask(await this.verified(jws), NO_LIMITS);
    const index = task.to.indexOf(reader);
    const body = index < 0 ? NOT_FOR_YOU : openBody(task, index, this.identity.privateKey);
    return { id: task.id, from: task.from, to: task.to, body, failure_strategy: task.failure_strategy, metadata: task.metadata };
  }

  private async openResultMessage(jws: string, reader: string): Promise<ResultOutput> {
    const result = parseSealedResult(await this.verified(jws), NO_LIMITS);
    const index = result.to.indexOf(reader);
    const sealed =
      result.encrypted !== undefined && result.encryption_keys !== undefined
        ? { encrypted: result.encrypted, encryption_keys: result.encryption_keys }
        : undefined;
    const body = sealed === undefined ? {} : { body: index < 0 ? NOT_FOR_YOU : openBody(sealed, index, this.identity.privateKey) };
    return { from: result.from, to: result.to, task: result.task, status: result.status, ...body, metadata: result.metadata };
  }

  private async sign(payload: object): Promise<string> {
    return signMessage(payload, this.identity.privateKey, this.identity.requireSerial());
  }

  private async verified(jws: string): Promise<unknown> {
    const kid = readJwsKid(jws);
    const cert = await this.directory.bySerialNumber(kid);
    if (!cert) throw new Error(`signer certificate ${kid} is unknown, invalid or revoked`);
    const payload = await verifyMessage<{ from?: unknown }>(jws, cert.publicKey);
    if (typeof payload.from !== 'string' || !canSignFor(cert.commonName, payload.from)) {
      throw new Error(`${cert.commonName} cannot sign for ${String(payload.from)}`);
    }
    return payload;
  }

  private async recipientKeys(to: string[]): Promise<KeyObject[]> {
    const proxies = to.map((r, i) => proxyIdOf(r, this.config.brokerId, `to[${i}]`));
    const certs = new Map<string, KeyObject>();
    const missing: string[] = [];
    for (const p of new Set(proxies)) {
      const cert = await this.directory.forProxy(p);
      if (cert) certs.set(p, cert.publicKey);
      else missing.push(p);
    }
    if (missing.length > 0) throw new RecipientsWithoutCertificate(missing);
    return proxies.map((p) => certs.get(p) as KeyObject);
  }
}
