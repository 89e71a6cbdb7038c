/**
 * Direct sockets: the signed socket request and its parsing (its events: events/socket-events.ts). The projection of live socket
 * requests lives in projection.ts beside the task views.
 *
 * Signed socket request (the initiator proxy's compact message JWS, stored verbatim in SocketRequested):
 * `{"id": uuid v4, "from": AppId, "to": [AppId], "ttl": "60s", "metadata": any, "eph": base64url X25519
 * public key (32 bytes) of the initiator proxy, fresh per socket}`.
 */
import { parseBeamId } from './beam-id';
import { InvalidInput } from './errors';
import { expectObject, expectString, field, guarded } from './json-fields';
import { checkedMetadata, parseTtl, type TaskLimits } from './messages';
import { parseUuid } from './uuid';

export const DEFAULT_SOCKET_TTL_MS = 60_000;

/** The socket request as the initiator proxy signs it. */
export interface SocketRequest {
  id: string;
  from: string;
  to: [string];
  ttl: string;
  metadata: unknown;
  /** base64url of the initiator proxy's ephemeral X25519 public key (raw, 32 bytes). */
  eph: string;
}

/**
 * Validates a signed socket request payload (after its signature was verified): the TTL by the same rules
 * as a task's (`0 < ttl <= maxTtlMs`), the metadata by the same depth limit. A reader of requests the broker
 * accepted earlier passes no TTL limit (it may have been lowered since).
 */
export function parseSocketRequest(json: unknown, limits: Pick<TaskLimits, 'maxTtlMs'> = { maxTtlMs: Number.MAX_SAFE_INTEGER }): SocketRequest {
  return guarded(() => {
    const o = expectObject(json, 'socket request');
    const to = field(o, 'to');
    if (!Array.isArray(to) || to.length !== 1) throw new InvalidInput('to: a socket request has exactly one recipient');
    const ttl = parseTtl(expectString(field(o, 'ttl'), 'ttl'), limits);
    const eph = expectString(field(o, 'eph'), 'eph');
    if (!/^[A-Za-z0-9_-]{43}$/.test(eph)) throw new InvalidInput('eph: expected a base64url X25519 public key');
    return {
      id: parseUuid(field(o, 'id'), 'id'),
      from: parseBeamId(field(o, 'from'), 'from'),
      to: [parseBeamId(to[0], 'to[0]')],
      ttl,
      metadata: checkedMetadata(field(o, 'metadata')),
      eph,
    };
  });
}

/** The `metadata` header of a socket request: JSON, or null when absent. */
export function parseSocketMetadataHeader(raw: string | string[] | undefined): unknown {
  if (raw === undefined) return null;
  if (Array.isArray(raw)) throw new InvalidInput('metadata: header given more than once');
  let metadata: unknown;
  try {
    metadata = JSON.parse(raw);
  } catch {
    throw new InvalidInput('metadata: header is not JSON', 'bad_metadata');
  }
  return checkedMetadata(metadata);
}
