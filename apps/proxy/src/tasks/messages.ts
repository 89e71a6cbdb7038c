/**
 * End-to-end protection at the proxy. Outbound: seal the body for every recipient's proxy certificate, add a
 * keyed digest (so an identical retry is recognised without revealing plaintext), sign. Inbound: verify the
 * signature against a validated certificate that can sign for `from`, check the message is the one asked
 * for and fresh by its signed times, and open the body, bound to this message and the reader's position, if the
 * reader is a recipient. Anything that fails is refused, never shown; messages of another format too.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KeyObject } from 'node:crypto';
import { canonicalJson, keyedDigest, openBlob, openBody, readJwsKid, sealBlob, signMessage, verifyMessage, type SealBinding } from '@beamline/crypto';
import {
  canSignFor,
  expectObject,
  field,
  formatRemainingTtl,
  MESSAGE_FORMAT_VERSION,
  NotFound,
  parseLogEvent,
  parseSealedResult,
  parseSealedTask,
  proxyIdOf,
  RecipientsWithoutCertificate,
  remainingTtlMs,
  resultStaleness,
  taskStaleness,
  type LogEvent,
  type BlobRef,
  type ResultInput,
  type SealedBodyFields,
  type SealedResult,
  type SealedTask,
  type TaskInput,
  type WorkStatus,
} from '@beamline/domain';
import { ProxyIdentity } from '../broker/proxy-identity';
import { BodyBlobs } from './body-blobs';
import { NewestResults } from './newest-results';
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

/** A task as verified and opened, before its freshness is judged: with its signed ttl and creation time. */
type OpenedTask = TaskOutput & { created: number };
type OpenedResult = ResultOutput & { created: number };

/** A message refused because its signed times say it is not (or no longer) to be shown. */
class StaleMessage extends Error {}

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
  private readonly newestResults = new NewestResults();

  constructor(
    private readonly directory: CertificateDirectory,
    private readonly identity: ProxyIdentity,
    private readonly blobs: BodyBlobs,
    @Inject(PROXY_CONFIG) private readonly config: ProxyConfig,
  ) {
    this.opened = new OpenedMessages(async (kid) => (await this.directory.bySerialNumber(kid)) !== undefined);
  }

  async sealTask(task: TaskInput): Promise<string> {
    const { body, ...rest } = task;
    const sealed: SealedTask = {
      v: MESSAGE_FORMAT_VERSION,
      ...rest,
      created: Date.now(),
      ...(await this.sealedBody(body, { kind: 'task', taskId: task.id, from: task.from, to: task.to })),
      digest: keyedDigest(this.identity.digestKey, canonicalJson(task)),
    };
    return this.sign(sealed);
  }

  async sealResult(result: ResultInput): Promise<string> {
    const { body, ...rest } = result;
    const head: SealedResult = { v: MESSAGE_FORMAT_VERSION, ...rest, created: Date.now() };
    const binding = { kind: 'result', taskId: result.task, from: result.from, to: result.to } as const;
    const sealed: SealedResult = body === undefined ? head : { ...head, ...(await this.sealedBody(body, binding)) };
    return this.sign(sealed);
  }

  /** A body sealed inside its message, or, over INLINE_BODY_MAX, uploaded as a blob that the message names. */
  private async sealedBody(body: string, binding: SealBinding): Promise<SealedBodyFields> {
    const bytes = Buffer.from(body, 'utf8');
    const { blob, ...keys } = sealBlob(bytes, await this.recipientKeys(binding.to), binding);
    if (bytes.length <= this.config.inlineBodyMaxBytes) return { encrypted: blob.toString('base64'), ...keys };
    const readers = [...new Set(binding.to.map((r) => proxyIdOf(r, this.config.brokerId)))].filter((p) => p !== this.identity.proxyId);
    return { encrypted_blob: await this.blobs.upload(blob, readers), ...keys };
  }

  /** Opens the body of a verified message, fetching it first when it was stored as a blob by the sender's proxy. */
  private async openSealed(sealed: SealedBodyFields, index: number, binding: SealBinding): Promise<string> {
    const { encrypted, encrypted_blob, encryption_keys, key_commitment } = sealed;
    if (encrypted !== undefined) return openBody({ encrypted, encryption_keys, key_commitment }, index, this.identity.privateKey, binding);
    const blob = await this.blobs.download(proxyIdOf(binding.from, this.config.brokerId), encrypted_blob as BlobRef);
    return openBlob({ blob, encryption_keys, key_commitment }, index, this.identity.privateKey, binding);
  }

  /** The task of a streamed line as `reader` may see it, or undefined (logged) when it is refused. */
  async openTask(line: unknown, reader: string, expectedId?: string): Promise<TaskOutput | undefined> {
    try {
      return await this.freshTask(line, reader, expectedId);
    } catch (err) {
      return this.refused('task', err);
    }
  }

  /** The one task `id` as `reader` may see it: NotFound when its signed times say it expired, undefined when refused otherwise. */
  async openOneTask(line: unknown, reader: string, id: string): Promise<TaskOutput | undefined> {
    try {
      return await this.freshTask(line, reader, id);
    } catch (err) {
      this.refused('task', err);
      if (err instanceof StaleMessage) throw new NotFound(`task ${id} not found`);
      return undefined;
    }
  }

  /** The result of a streamed line as `reader` may see it, or undefined (logged) when it is refused. */
  async openResult(line: unknown, reader: string, taskId: string): Promise<ResultOutput | undefined> {
    try {
      const event = eventOfLine(line, 'ResultPut');
      const { created, ...result } = await this.opened.open(reader, event.message, () => this.openResultMessage(event.message, reader));
      if (result.task !== taskId || event.taskId !== taskId) throw new Error(`broker returned a result of task ${result.task} for ${taskId}`);
      if (event.from !== result.from) throw new Error(`the broker's event names ${event.from} as the worker of ${result.from}'s result`);
      if (event.created !== created) throw new Error(`the broker's event dates ${result.from}'s result ${String(event.created)}, its signature ${created}`);
      const stale = resultStaleness({ created }, Date.now(), this.config.messageClockSkewMs);
      if (stale) throw new StaleMessage(`result of ${result.from} to task ${taskId}: ${stale.reason}`);
      if (!this.newestResults.admit(taskId, result.from, created)) {
        throw new StaleMessage(`result of ${result.from} to task ${taskId}: signed before one already shown (a copy of an older result)`);
      }
      return result;
    } catch (err) {
      return this.refused('result', err);
    }
  }

  private async freshTask(line: unknown, reader: string, expectedId?: string): Promise<TaskOutput> {
    const item = eventOfLine(line, 'TaskCreated');
    const { created, ...task } = await this.opened.open(reader, item.message, () => this.openTaskMessage(item.message, reader));
    if (item.taskId !== task.id || (expectedId !== undefined && task.id !== expectedId)) {
      throw new Error(`broker returned task ${task.id} as ${item.taskId}${expectedId === undefined ? '' : ` for ${expectedId}`}`);
    }
    const now = Date.now();
    const stale = taskStaleness({ created, ttl: task.ttl }, now, this.config.messageClockSkewMs);
    if (stale) throw new StaleMessage(`task ${task.id}: ${stale.reason}`);
    // Samply.Beam's field order; the ttl is what remains now by the signed times, never the broker's.
    return { ...task, ttl: formatRemainingTtl(remainingTtlMs({ created, ttl: task.ttl }, now)) };
  }

  private refused(kind: 'task' | 'result', err: unknown): undefined {
    this.logger.warn(`refusing a ${kind} message: ${String((err as Error).message ?? err)}`);
    return undefined;
  }

  private async openTaskMessage(jws: string, reader: string): Promise<OpenedTask> {
    const task = parseSealedTask(await this.verified(jws), NO_LIMITS);
    const index = task.to.indexOf(reader);
    const binding = { kind: 'task', taskId: task.id, from: task.from, to: task.to } as const;
    const body = index < 0 ? NOT_FOR_YOU : await this.openSealed(task, index, binding);
    const { id, from, to, failure_strategy, ttl, metadata, created } = task;
    return { id, from, to, body, failure_strategy, ttl, metadata, created };
  }

  private async openResultMessage(jws: string, reader: string): Promise<OpenedResult> {
    const result = parseSealedResult(await this.verified(jws), NO_LIMITS);
    const index = result.to.indexOf(reader);
    const { encrypted, encrypted_blob, encryption_keys, key_commitment } = result;
    const sealed = encryption_keys !== undefined && key_commitment !== undefined ? { encrypted, encrypted_blob, encryption_keys, key_commitment } : undefined;
    const binding = { kind: 'result', taskId: result.task, from: result.from, to: result.to } as const;
    const body = sealed === undefined ? {} : { body: index < 0 ? NOT_FOR_YOU : await this.openSealed(sealed, index, binding) };
    return { from: result.from, to: result.to, task: result.task, status: result.status, ...body, metadata: result.metadata, created: result.created };
  }

  /** Signs a message payload with this proxy's key (a compact message JWS). */
  async sign(payload: object): Promise<string> {
    return signMessage(payload, this.identity.privateKey, this.identity.requireSerial());
  }

  /** The payload of a message JWS whose signer's certificate is valid and may sign for its `from`; throws otherwise. */
  async verified(jws: string): Promise<unknown> {
    const kid = readJwsKid(jws);
    const cert = await this.directory.bySerialNumber(kid);
    if (!cert) throw new Error(`signer certificate ${kid} is unknown, invalid or revoked`);
    const payload = await verifyMessage<{ from?: unknown }>(jws, cert.publicKey);
    if (typeof payload.from !== 'string' || !canSignFor(cert.commonName, payload.from)) {
      throw new Error(`${cert.commonName} cannot sign for ${String(payload.from)}`);
    }
    return payload;
  }

  /** The proxy key of each recipient (aligned with `to`); RecipientsWithoutCertificate (424) names those without one. */
  async recipientKeys(to: readonly string[]): Promise<KeyObject[]> {
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
