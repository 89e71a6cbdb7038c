import { describeValue } from './describe-value';
import { InvalidInput } from './errors';

const LABEL = /^[A-Za-z0-9-]+$/;
const BEAM_ID = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const MAX_LEN = 255;

/** True when `s` is a syntactically valid BeamId (labels `[A-Za-z0-9-]+` joined by dots, at most 255 chars). */
export function isValidBeamId(s: unknown): s is string {
  return typeof s === 'string' && s.length > 0 && s.length <= MAX_LEN && BEAM_ID.test(s);
}

/** Returns `s` if it is a valid BeamId, else throws InvalidInput naming `field`. */
export function parseBeamId(s: unknown, field: string): string {
  if (typeof s !== 'string') throw new InvalidInput(`${field}: expected a BeamId string, got ${describeValue(s)}`);
  if (s.length > MAX_LEN) throw new InvalidInput(`${field}: BeamId longer than ${MAX_LEN} characters`);
  if (!isValidBeamId(s)) throw new InvalidInput(`${field}: not a valid BeamId: ${describeValue(s)}`);
  return s;
}

/** True when `signer` may sign for `id`: equal, or `id` ends with "." + signer (label boundary). */
export function canSignFor(signer: string, id: string): boolean {
  if (signer.length === 0) return false;
  return id === signer || id.endsWith('.' + signer);
}

/** What a BeamId denotes relative to a broker. */
export type BeamIdKind = 'app' | 'proxy' | 'broker';

/** Classifies `id` relative to `brokerId`; undefined when it is not a valid id under that broker. */
export function kindOf(id: string, brokerId: string): BeamIdKind | undefined {
  if (!isValidBeamId(id) || !isValidBeamId(brokerId)) return undefined;
  if (id === brokerId) return 'broker';
  if (!id.endsWith('.' + brokerId)) return undefined;
  const labels = id.slice(0, id.length - brokerId.length - 1).split('.').length;
  if (labels === 1) return 'proxy';
  if (labels === 2) return 'app';
  return undefined;
}

/** The ProxyId of an app or proxy id of `brokerId`; throws InvalidInput naming `field` otherwise. */
export function proxyIdOf(id: string, brokerId: string, field = 'id'): string {
  const kind = kindOf(id, brokerId);
  if (kind === 'proxy') return id;
  if (kind === 'app') return id.slice(id.indexOf('.') + 1);
  throw new InvalidInput(`${field}: ${describeValue(id)} is not an app or proxy id of broker ${describeValue(brokerId)}`);
}

/** Builds the AppId `<label>.<proxyId>`; throws InvalidInput when the label is not `[A-Za-z0-9-]+`. */
export function appIdOf(label: string, proxyId: string): string {
  if (typeof label !== 'string' || !LABEL.test(label)) throw new InvalidInput(`label: not a valid BeamId label: ${describeValue(label)}`);
  return parseBeamId(`${label}.${proxyId}`, 'app_id');
}

/** The BrokerId of a ProxyId: everything after the first label ('proxy1.broker' -> 'broker'). */
export function brokerIdOfProxy(proxyId: string): string {
  const dot = proxyId.indexOf('.');
  if (!isValidBeamId(proxyId) || dot < 0) throw new InvalidInput(`proxy_id: not a valid ProxyId: ${describeValue(proxyId)}`);
  return proxyId.slice(dot + 1);
}

/** Encodes a BeamId as one NATS subject token (dots -> '_'). */
export function subjectToken(id: string): string {
  return id.replace(/\./g, '_');
}

/** Decodes a subject token made by subjectToken ('_' -> dots). */
export function fromSubjectToken(token: string): string {
  return token.replace(/_/g, '.');
}
