import { parseBeamId } from './beam-id';
import { describeValue } from './describe-value';
import { parseDuration } from './duration';
import { InvalidInput, PayloadTooLarge } from './errors';
import { expectNonNegativeInt, expectObject, expectRecipients, expectString, field, guarded, JsonObject } from './json-fields';
import { jsonValueTooDeep, MAX_JSON_DEPTH } from './json-depth';
import { parseUuid } from './uuid';

/** The status of a result. */
export type WorkStatus = 'claimed' | 'tempfailed' | 'permfailed' | 'succeeded';
/** All result statuses. */
export const WORK_STATUSES: readonly WorkStatus[] = Object.freeze(['claimed', 'tempfailed', 'permfailed', 'succeeded'] as const);

/** Stored and returned, never acted on. */
export type FailureStrategy = 'discard' | { retry: { backoff_millisecs: number; max_tries: number } };

/** What an app POSTs (plaintext, at the proxy). */
export interface TaskInput {
  id: string;
  from: string;
  to: string[];
  body: string;
  failure_strategy: FailureStrategy;
  ttl: string;
  metadata: unknown;
}
/** What an app PUTs as a result (plaintext, at the proxy). body is undefined only for status 'claimed' without body. */
export interface ResultInput {
  from: string;
  to: string[];
  task: string;
  status: WorkStatus;
  body?: string;
  metadata: unknown;
}
/**
 * The version of the signed message format (`v`), which includes the sealed body's (libs/crypto/README.md). A
 * message without it or of another version is refused: version 1 bound neither body nor time to the message.
 */
export const MESSAGE_FORMAT_VERSION = 2;

/**
 * A sealed body kept in the broker's blob store instead of inside its message: the SHA-256 (base64url) and the
 * byte length of the sealed bytes. Signed with the message, so the broker can neither swap nor cut the body.
 */
export interface BlobRef {
  sha256: string;
  size: number;
}

/** Bodies above this many bytes (UTF-8) travel as a blob, not inside their message. */
export const INLINE_BODY_MAX_BYTES = 1024 * 1024;
/** The largest request an app may send a proxy: a 64 MiB body with room for its JSON. */
export const MAX_APP_REQUEST_BYTES = 72 * 1024 * 1024;
/** The largest sealed blob: a body of the largest request, plus the nonce and tag (40 bytes). */
export const MAX_BLOB_BYTES = MAX_APP_REQUEST_BYTES + 1024;

/**
 * The sealed body fields (from the crypto lib); the broker checks their shape, never their content. Exactly one
 * of `encrypted` (inline, base64) and `encrypted_blob` (a reference to the blob store) is present.
 */
export interface SealedBodyFields {
  encrypted?: string;
  encrypted_blob?: BlobRef;
  encryption_keys: string[];
  key_commitment: string;
}
/**
 * The sealed forms that travel proxy -> broker (inside a signed JWS). `created` is the sender proxy's clock
 * (integer ms since the Unix epoch) when it sealed the message: with `ttl`, the only times a receiver trusts.
 */
export interface SealedTask extends SealedBodyFields {
  v: typeof MESSAGE_FORMAT_VERSION;
  id: string;
  from: string;
  to: string[];
  failure_strategy: FailureStrategy;
  ttl: string;
  created: number;
  metadata: unknown;
  digest: string;
}
/** A sealed result; the sealed body fields are all present or all absent (claimed without body). */
export interface SealedResult extends Partial<SealedBodyFields> {
  v: typeof MESSAGE_FORMAT_VERSION;
  task: string;
  from: string;
  to: string[];
  status: WorkStatus;
  created: number;
  metadata: unknown;
}

/** Limits applied to incoming messages (`maxRecipients` defaults to {@link DEFAULT_MAX_RECIPIENTS}). */
export interface TaskLimits {
  maxTtlMs: number;
  maxRecipients?: number;
}
/** Default maximum task TTL: 7 days. */
export const DEFAULT_MAX_TTL_MS = 7 * 24 * 3_600_000;
/** Default maximum length of a message's `to` (`MAX_RECIPIENTS`). */
export const DEFAULT_MAX_RECIPIENTS = 1_000;
/** Results have no TTL of their own; only their recipients are bounded. */
export type ResultLimits = Pick<TaskLimits, 'maxRecipients'>;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const MAX_DIGEST_LEN = 128;

/** Parses a WorkStatus. */
export function parseWorkStatus(v: unknown, name = 'status'): WorkStatus {
  if (typeof v !== 'string' || !(WORK_STATUSES as readonly string[]).includes(v)) {
    throw new InvalidInput(`${name}: expected one of ${WORK_STATUSES.join('|')}, got ${describeValue(v)}`);
  }
  return v as WorkStatus;
}

/** Parses a failure strategy: absent -> 'discard', else 'discard' or {retry:{backoff_millisecs, max_tries}}. */
export function parseFailureStrategy(v: unknown): FailureStrategy {
  if (v === undefined || v === 'discard') return 'discard';
  const name = 'failure_strategy';
  const obj = expectObject(v, name);
  const keys = Object.keys(obj);
  if (keys.length !== 1 || keys[0] !== 'retry') throw new InvalidInput(`${name}: expected "discard" or {"retry":{...}}`);
  const retry = expectObject(field(obj, 'retry'), `${name}.retry`);
  return {
    retry: {
      backoff_millisecs: expectNonNegativeInt(field(retry, 'backoff_millisecs'), `${name}.retry.backoff_millisecs`),
      max_tries: expectNonNegativeInt(field(retry, 'max_tries'), `${name}.retry.max_tries`),
    },
  };
}

/** Parses a TTL (string with unit or bare seconds; JSON numbers normalised to strings), requiring 0 < ttl <= maxTtlMs. */
export function parseTtl(v: unknown, limits: TaskLimits): string {
  if (v === undefined) throw new InvalidInput('ttl: required');
  const ttl = typeof v === 'number' ? String(v) : v;
  if (typeof ttl !== 'string') throw new InvalidInput(`ttl: expected a duration string or number, got ${describeValue(v)}`);
  const ms = parseDuration(ttl, 'ttl');
  if (ms <= 0) throw new InvalidInput('ttl: must be > 0');
  if (ms > limits.maxTtlMs) throw new InvalidInput(`ttl: must be at most ${Math.floor(limits.maxTtlMs / 1000)}s`);
  return ttl;
}

/** The TTL of a task in milliseconds. */
export function ttlMsOf(task: { ttl: string }): number {
  return parseDuration(task.ttl, 'ttl');
}

/** Metadata sits one level inside the message object, which itself may nest at most MAX_JSON_DEPTH levels. */
const MAX_METADATA_DEPTH = MAX_JSON_DEPTH - 1;

function metadataOf(obj: JsonObject): unknown {
  return checkedMetadata(field(obj, 'metadata'));
}

/** Metadata as given (null when absent); throws InvalidInput `too_deep` when it nests deeper than a message may. */
export function checkedMetadata(m: unknown): unknown {
  if (jsonValueTooDeep(m, MAX_METADATA_DEPTH)) throw new InvalidInput(`metadata: nested deeper than ${MAX_METADATA_DEPTH} levels`, 'too_deep');
  return m === undefined ? null : m;
}

function expectBase64(v: unknown, name: string): string {
  const s = expectString(v, name);
  if (s.length === 0 || !BASE64.test(s) || s.length % 4 === 1) throw new InvalidInput(`${name}: expected a non-empty base64 string`);
  return s;
}

function expectKeys(v: unknown, to: string[], name = 'encryption_keys'): string[] {
  if (!Array.isArray(v)) throw new InvalidInput(`${name}: expected an array of base64 strings`);
  if (v.length !== to.length) throw new InvalidInput(`${name}: expected ${to.length} entries (one per recipient), got ${v.length}`);
  return v.map((k, i) => expectBase64(k, `${name}[${i}]`));
}

/** The sealed body of a message: inline or a blob reference (exactly one), with its wrapped keys and commitment. */
function sealedBodyOf(o: JsonObject, to: string[]): SealedBodyFields {
  const inline = field(o, 'encrypted');
  const blob = field(o, 'encrypted_blob');
  if ((inline === undefined || inline === null) === (blob === undefined || blob === null)) {
    throw new InvalidInput('encrypted: expected exactly one of encrypted and encrypted_blob');
  }
  const keys = { encryption_keys: expectKeys(field(o, 'encryption_keys'), to), key_commitment: expectCommitment(field(o, 'key_commitment')) };
  return inline !== undefined && inline !== null ? { encrypted: expectBase64(inline, 'encrypted'), ...keys } : { encrypted_blob: parseBlobRef(blob), ...keys };
}

/** Parses a blob reference `{sha256, size}`: a base64url SHA-256 and a size of at most MAX_BLOB_BYTES. */
export function parseBlobRef(v: unknown, name = 'encrypted_blob'): BlobRef {
  const o = expectObject(v, name);
  const sha256 = expectString(field(o, 'sha256'), `${name}.sha256`);
  if (!/^[A-Za-z0-9_-]{43}$/.test(sha256)) throw new InvalidInput(`${name}.sha256: expected a base64url SHA-256 (43 characters)`);
  const size = expectNonNegativeInt(field(o, 'size'), `${name}.size`);
  if (size > MAX_BLOB_BYTES) throw new PayloadTooLarge(`${name}.size: at most ${MAX_BLOB_BYTES} bytes`);
  return { sha256, size };
}

function expectFormatVersion(o: JsonObject): typeof MESSAGE_FORMAT_VERSION {
  const v = field(o, 'v');
  if (v !== MESSAGE_FORMAT_VERSION) {
    throw new InvalidInput(`v: message format ${describeValue(v)} is not supported (expected ${MESSAGE_FORMAT_VERSION})`, 'unsupported_format');
  }
  return MESSAGE_FORMAT_VERSION;
}

function expectCommitment(v: unknown): string {
  const s = expectBase64(v, 'key_commitment');
  if (s.length > MAX_DIGEST_LEN) throw new InvalidInput(`key_commitment: expected at most ${MAX_DIGEST_LEN} characters`);
  return s;
}

function expectDigest(v: unknown): string {
  const s = expectString(v, 'digest');
  if (s.length === 0 || s.length > MAX_DIGEST_LEN) throw new InvalidInput(`digest: expected 1..${MAX_DIGEST_LEN} characters`);
  return s;
}

/** Validates a plaintext task as POSTed by an app. */
export function parseTaskInput(json: unknown, limits: TaskLimits): TaskInput {
  return guarded(() => {
    const o = expectObject(json);
    return {
      id: parseUuid(field(o, 'id'), 'id'),
      from: parseBeamId(field(o, 'from'), 'from'),
      to: expectRecipients(field(o, 'to'), 'to', limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS),
      body: expectString(field(o, 'body'), 'body'),
      failure_strategy: parseFailureStrategy(field(o, 'failure_strategy')),
      ttl: parseTtl(field(o, 'ttl'), limits),
      metadata: metadataOf(o),
    };
  });
}

/** Validates a plaintext result as PUT by an app; body is required unless status is 'claimed'. */
export function parseResultInput(json: unknown, limits: ResultLimits = {}): ResultInput {
  return guarded(() => {
    const o = expectObject(json);
    const task = parseUuid(field(o, 'task'), 'task');
    const from = parseBeamId(field(o, 'from'), 'from');
    const to = expectRecipients(field(o, 'to'), 'to', limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS);
    const status = parseWorkStatus(field(o, 'status'));
    const rawBody = field(o, 'body');
    const result: ResultInput = { from, to, task, status, metadata: metadataOf(o) };
    if (status === 'claimed' && (rawBody === undefined || rawBody === null)) return result;
    result.body = expectString(rawBody, 'body');
    return result;
  });
}

/** Validates a sealed task (proxy -> broker) of the current format; another `v` is InvalidInput `unsupported_format`. */
export function parseSealedTask(json: unknown, limits: TaskLimits): SealedTask {
  return guarded(() => {
    const o = expectObject(json);
    const v = expectFormatVersion(o);
    const to = expectRecipients(field(o, 'to'), 'to', limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS);
    return {
      v,
      id: parseUuid(field(o, 'id'), 'id'),
      from: parseBeamId(field(o, 'from'), 'from'),
      to,
      ...sealedBodyOf(o, to),
      failure_strategy: parseFailureStrategy(field(o, 'failure_strategy')),
      ttl: parseTtl(field(o, 'ttl'), limits),
      created: expectNonNegativeInt(field(o, 'created'), 'created'),
      metadata: metadataOf(o),
      digest: expectDigest(field(o, 'digest')),
    };
  });
}

/** Validates a sealed result (proxy -> broker) of the current format; the sealed body fields all absent (claimed only) or all present. */
export function parseSealedResult(json: unknown, limits: ResultLimits = {}): SealedResult {
  return guarded(() => {
    const o = expectObject(json);
    const v = expectFormatVersion(o);
    const task = parseUuid(field(o, 'task'), 'task');
    const from = parseBeamId(field(o, 'from'), 'from');
    const to = expectRecipients(field(o, 'to'), 'to', limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS);
    const status = parseWorkStatus(field(o, 'status'));
    const created = expectNonNegativeInt(field(o, 'created'), 'created');
    const result: SealedResult = { v, task, from, to, status, created, metadata: metadataOf(o) };
    const isAbsent = (name: string): boolean => field(o, name) === undefined || field(o, name) === null;
    const absent = [isAbsent('encrypted') && isAbsent('encrypted_blob'), isAbsent('encryption_keys'), isAbsent('key_commitment')];
    if (absent.some((a) => a !== absent[0])) {
      throw new InvalidInput('encrypted: encrypted (or encrypted_blob), encryption_keys and key_commitment must be all present or all absent');
    }
    if (absent[0]) {
      if (status !== 'claimed') throw new InvalidInput(`encrypted: required for status ${status}`);
      return result;
    }
    return { ...result, ...sealedBodyOf(o, to) };
  });
}
