/**
 * Direct sockets: the signed socket request, its events and their parsing. The projection of live socket
 * requests lives in projection.ts beside the task views.
 *
 * Signed socket request (the initiator proxy's compact message JWS, stored verbatim in SocketRequested):
 * `{"id": uuid v4, "from": AppId, "to": [AppId], "ttl": "60s", "metadata": any, "eph": base64url X25519
 * public key (32 bytes) of the initiator proxy, fresh per socket}`.
 */
import { parseBeamId } from './beam-id';
import { describeValue } from './describe-value';
import { InvalidInput } from './errors';
import { parseEvent, type BeamEvent } from './events';
import { expectNonNegativeInt, expectObject, expectString, field, guarded, type JsonObject } from './json-fields';
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

/** A socket request was accepted by the broker; `message` is the initiator proxy's compact JWS, verbatim. */
export interface SocketRequested {
  type: 'SocketRequested';
  v: 1;
  socketId: string;
  from: string;
  to: string[];
  message: string;
  receivedAt: number;
  expiresAt: number;
}
/** The recipient connected: the request is consumed (a request can be connected at most once). */
export interface SocketConnected {
  type: 'SocketConnected';
  v: 1;
  socketId: string;
  by: string;
  connectedAt: number;
}
export type SocketEvent = SocketRequested | SocketConnected;
/** Every event of the BEAM_EVENTS log: task events and socket events. */
export type LogEvent = BeamEvent | SocketEvent;

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

function nonEmpty(v: unknown, name: string): string {
  const s = expectString(v, name);
  if (s.length === 0) throw new InvalidInput(`${name}: must not be empty`);
  return s;
}

function parseSocketRequested(o: JsonObject): SocketRequested {
  const to = field(o, 'to');
  if (!Array.isArray(to) || to.length !== 1) throw new InvalidInput('to: a socket request has exactly one recipient');
  return {
    type: 'SocketRequested',
    v: 1,
    socketId: parseUuid(field(o, 'socketId'), 'socketId'),
    from: parseBeamId(field(o, 'from'), 'from'),
    to: [parseBeamId(to[0], 'to[0]')],
    message: nonEmpty(field(o, 'message'), 'message'),
    receivedAt: expectNonNegativeInt(field(o, 'receivedAt'), 'receivedAt'),
    expiresAt: expectNonNegativeInt(field(o, 'expiresAt'), 'expiresAt'),
  };
}

function parseSocketConnected(o: JsonObject): SocketConnected {
  return {
    type: 'SocketConnected',
    v: 1,
    socketId: parseUuid(field(o, 'socketId'), 'socketId'),
    by: parseBeamId(field(o, 'by'), 'by'),
    connectedAt: expectNonNegativeInt(field(o, 'connectedAt'), 'connectedAt'),
  };
}

/** Validates any event of the log (task or socket); throws InvalidInput on unknown type/version or bad fields. */
export function parseLogEvent(json: unknown): LogEvent {
  const type = typeof json === 'object' && json !== null ? (json as JsonObject).type : undefined;
  if (type !== 'SocketRequested' && type !== 'SocketConnected') return parseEvent(json);
  return guarded(() => {
    const o = expectObject(json, 'event');
    const v = field(o, 'v');
    if (v !== 1) throw new InvalidInput(`v: unsupported event version ${describeValue(v)}`);
    return type === 'SocketRequested' ? parseSocketRequested(o) : parseSocketConnected(o);
  });
}
