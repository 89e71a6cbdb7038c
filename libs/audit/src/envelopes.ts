/**
 * Where an event's envelope (what the broker wrote around the signed message) disagrees with the message: the
 * envelope is unsigned, so every field a reader acts on must be the signed one.
 */
import { isDeepStrictEqual } from 'node:util';
import { ttlMsOf, type FileOffered, type ResultPut, type SocketRequested, type TaskCreated } from '@beamline/domain';

type Compare = (name: string, envelope: unknown, signed: unknown) => void;

function comparer(mismatches: string[]): Compare {
  return (name, envelope, signed) => {
    if (!isDeepStrictEqual(envelope, signed)) mismatches.push(`${name}: event says ${JSON.stringify(envelope)}, signed message says ${JSON.stringify(signed)}`);
  };
}

/** expiresAt = receivedAt + the signed ttl (task and socket requests). */
function checkExpiry(event: TaskCreated | SocketRequested | FileOffered, payload: Record<string, unknown>, mismatches: string[]): void {
  let ttlMs: number | undefined;
  try {
    ttlMs = ttlMsOf({ ttl: payload.ttl as string });
  } catch {
    mismatches.push(`ttl: signed ttl ${JSON.stringify(payload.ttl)} is not a duration`);
  }
  if (ttlMs !== undefined && event.expiresAt !== event.receivedAt + ttlMs) {
    mismatches.push(
      `expiresAt: event says ${new Date(event.expiresAt).toISOString()}, receivedAt + signed ttl ${JSON.stringify(payload.ttl)} is ${new Date(event.receivedAt + ttlMs).toISOString()}`,
    );
  }
}

/** The mismatches between a signed event's envelope and its verified payload (empty when they agree). */
export function envelopeMismatches(event: TaskCreated | ResultPut | SocketRequested | FileOffered, payload: Record<string, unknown>): string[] {
  const mismatches: string[] = [];
  const cmp = comparer(mismatches);
  if (event.type === 'FileOffered') {
    cmp('fileId', event.fileId, payload.id);
    cmp('from', event.from, payload.from);
    cmp('to', event.to, payload.to);
    cmp('size', event.size, payload.size);
    cmp(
      'parts',
      event.parts.map(({ sha256, size }) => ({ sha256, size })),
      payload.parts,
    );
    checkExpiry(event, payload, mismatches);
    return mismatches;
  }
  if (event.type === 'SocketRequested') {
    cmp('socketId', event.socketId, payload.id);
    cmp('from', event.from, payload.from);
    cmp('to', event.to, payload.to);
    checkExpiry(event, payload, mismatches);
    return mismatches;
  }
  cmp('taskId', event.taskId, event.type === 'TaskCreated' ? payload.id : payload.task);
  cmp('from', event.from, payload.from);
  cmp('to', event.to, payload.to);
  if (event.type === 'ResultPut') {
    cmp('status', event.status, payload.status);
    return mismatches;
  }
  cmp('digest', event.digest, payload.digest);
  checkExpiry(event, payload, mismatches);
  return mismatches;
}
