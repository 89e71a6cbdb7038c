/** Sealed messages in the current wire format, built as a proxy builds them: for tests that speak to broker-api or the log directly. */
import { randomUUID, type KeyObject } from 'node:crypto';
import { sealBody } from '@beamline/crypto';
import { MESSAGE_FORMAT_VERSION, type SealedResult, type SealedTask } from '@beamline/domain';

export interface TaskToSeal {
  id?: string;
  from: string;
  to: string[];
  body: string;
  /** One proxy public key per recipient, aligned with `to`. */
  keys: KeyObject[];
  ttl?: string;
  created?: number;
}

export function sealedTask(t: TaskToSeal): SealedTask {
  const id = t.id ?? randomUUID();
  return {
    v: MESSAGE_FORMAT_VERSION,
    id,
    from: t.from,
    to: t.to,
    ...sealBody(t.body, t.keys, { kind: 'task', taskId: id, from: t.from, to: t.to }),
    failure_strategy: 'discard',
    ttl: t.ttl ?? '60s',
    created: t.created ?? Date.now(),
    metadata: null,
    digest: 'x',
  };
}

export function sealedResult(r: { task: string; from: string; to: string[]; body: string; keys: KeyObject[]; status?: SealedResult['status'] }): SealedResult {
  return {
    v: MESSAGE_FORMAT_VERSION,
    task: r.task,
    from: r.from,
    to: r.to,
    status: r.status ?? 'succeeded',
    created: Date.now(),
    ...sealBody(r.body, r.keys, { kind: 'result', taskId: r.task, from: r.from, to: r.to }),
    metadata: null,
  };
}
