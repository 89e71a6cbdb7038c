/**
 * Fills the event log with many real tasks quickly: each is sealed for its recipient's proxy and signed with
 * the sender proxy's key exactly as a proxy does, and appended as the TaskCreated broker-api would append
 * (create-once, Nats-Msg-Id), but without an HTTP round trip per task. Receiving proxies verify and open
 * them like any other task.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalJson, keyedDigest, messageDigestKey, parseCertificate, privateKeyFromPem, sealBody, sha256Base64Url, signMessage } from '@beamline/crypto';
import { MESSAGE_FORMAT_VERSION, type SealedTask, type TaskCreated, type TaskInput } from '@beamline/domain';
import { connectNats, EventLog, subjects } from '@beamline/nats';
import type { DevNetwork } from './dev-network';

export interface BulkTasks {
  /** Index of the sending proxy in `net.pki.proxies` (its key signs). */
  senderProxy: number;
  /** Index of the recipients' proxy (its certificate seals). */
  recipientProxy: number;
  from: string;
  to: string[];
  count: number;
  body: (i: number) => string;
  ttlSeconds: number;
  /** Appends in flight at once. */
  concurrency?: number;
}

/** Appends `count` tasks; returns them as an app would have posted them (with plaintext bodies). */
export async function appendSignedTasks(net: DevNetwork, spec: BulkTasks): Promise<TaskInput[]> {
  const sender = net.pki.proxies[spec.senderProxy];
  const privateKey = privateKeyFromPem(readFileSync(sender.keyFile, 'utf8'));
  const digestKey = messageDigestKey(privateKey);
  const recipientKey = parseCertificate(net.pki.proxies[spec.recipientProxy].certPem).publicKey;
  const nc = await connectNats(net.natsUrl, 'bulk-tasks');
  const log = new EventLog(nc);
  const tasks: TaskInput[] = [];
  try {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < spec.count) {
        const i = next++;
        const task: TaskInput = {
          id: randomUUID(),
          from: spec.from,
          to: spec.to,
          body: spec.body(i),
          failure_strategy: 'discard',
          ttl: `${spec.ttlSeconds}s`,
          metadata: null,
        };
        tasks[i] = task;
        const { body, ...rest } = task;
        const sealed: SealedTask = {
          v: MESSAGE_FORMAT_VERSION,
          ...rest,
          created: Date.now(),
          ...sealBody(
            body,
            spec.to.map(() => recipientKey),
            { kind: 'task', taskId: task.id, from: task.from, to: task.to },
          ),
          digest: keyedDigest(digestKey, canonicalJson(task)),
        };
        const message = await signMessage(sealed, privateKey, sender.serial);
        const now = Date.now();
        const event: TaskCreated = {
          type: 'TaskCreated',
          v: 1,
          taskId: task.id,
          from: task.from,
          to: spec.to,
          message,
          digest: sealed.digest,
          receivedAt: now,
          expiresAt: now + spec.ttlSeconds * 1000,
        };
        await log.append(subjects.taskCreated(task.id), event, { expectedLastSubjectSeq: 0, msgId: `tc-${sha256Base64Url(message)}` });
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency ?? 32 }, worker));
  } finally {
    await nc.close();
  }
  return tasks;
}
