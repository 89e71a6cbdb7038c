/**
 * Socket events of the BEAM_EVENTS log (SocketRequested, SocketConnected), and the parser of any event of the
 * log. All event schemas live in this folder: task events, socket events, PKI directory events.
 */
import { parseBeamId } from '../beam-id';
import { describeValue } from '../describe-value';
import { InvalidInput } from '../errors';
import { expectNonNegativeInt, expectObject, expectString, field, guarded, type JsonObject } from '../json-fields';
import { parseUuid } from '../uuid';
import { parseEvent, type BeamEvent } from './task-events';
import { FILE_EVENT_TYPES, parseFileEvent, type FileEvent } from './file-events';

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
/** Every event of the BEAM_EVENTS log: task, socket and file events. */
export type LogEvent = BeamEvent | SocketEvent | FileEvent;

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
  const isFile = typeof type === 'string' && FILE_EVENT_TYPES.has(type);
  if (type !== 'SocketRequested' && type !== 'SocketConnected' && !isFile) return parseEvent(json);
  return guarded(() => {
    const o = expectObject(json, 'event');
    const v = field(o, 'v');
    if (v !== 1) throw new InvalidInput(`v: unsupported event version ${describeValue(v)}`);
    if (isFile) return parseFileEvent(o);
    return type === 'SocketRequested' ? parseSocketRequested(o) : parseSocketConnected(o);
  });
}

function nonEmpty(v: unknown, name: string): string {
  const s = expectString(v, name);
  if (s.length === 0) throw new InvalidInput(`${name}: must not be empty`);
  return s;
}
