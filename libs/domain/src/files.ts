/**
 * Files sent store-and-forward (Beamline's own addition to the app API): what a sender's proxy offers, signed,
 * and the geometry every party computes from it. A file is sealed in chunks (libs/crypto file-seal.ts) and
 * stored as parts, each a blob of the broker's blob store; the signed offer lists every part's SHA-256 and
 * size, so nothing but the sender can change, drop or reorder a part.
 */
import { parseBeamId } from './beam-id';
import { InvalidInput, PayloadTooLarge } from './errors';
import { expectNonNegativeInt, expectObject, expectRecipients, field, guarded } from './json-fields';
import { jsonTextTooDeep, MAX_JSON_DEPTH } from './json-depth';
import { checkedMetadata, DEFAULT_MAX_RECIPIENTS, MESSAGE_FORMAT_VERSION, parseBlobRef, parseTtl, type BlobRef, type TaskLimits } from './messages';
import { parseUuid } from './uuid';

/** Plaintext bytes per sealed chunk; each sealed chunk is 16 bytes (its Poly1305 tag) longer. */
export const FILE_CHUNK_BYTES = 1024 * 1024;
export const FILE_TAG_BYTES = 16;
export const SEALED_FILE_CHUNK_BYTES = FILE_CHUNK_BYTES + FILE_TAG_BYTES;
/** Sealed chunks per part (the unit of upload and of download): 8 MiB and 128 bytes. */
export const FILE_CHUNKS_PER_PART = 8;
export const FILE_PART_BYTES = FILE_CHUNKS_PER_PART * SEALED_FILE_CHUNK_BYTES;
/** The largest file size the format allows (`MAX_FILE_SIZE` may only lower it): 64 GiB. */
export const MAX_FILE_BYTES = 64 * 2 ** 30;

/** The number of chunks of a file of `size` bytes: an empty file is one empty (last) chunk. */
export function fileChunkCount(size: number): number {
  return Math.max(1, Math.ceil(size / FILE_CHUNK_BYTES));
}

/** The sealed size of a file of `size` bytes. */
export function sealedFileSize(size: number): number {
  return size + fileChunkCount(size) * FILE_TAG_BYTES;
}

/** The sealed size of each part of a file of `size` bytes, in order. */
export function filePartSizes(size: number): number[] {
  const sealed = sealedFileSize(size);
  const parts = Math.ceil(sealed / FILE_PART_BYTES);
  return Array.from({ length: parts }, (_, i) => Math.min(FILE_PART_BYTES, sealed - i * FILE_PART_BYTES));
}

/** Where reading from plaintext `offset` starts: the part, the sealed byte in it, the chunk, and the plaintext bytes of that chunk to skip. */
export function fileReadStart(offset: number): { part: number; partOffset: number; chunk: number; skip: number } {
  const chunk = Math.floor(offset / FILE_CHUNK_BYTES);
  const part = Math.floor(chunk / FILE_CHUNKS_PER_PART);
  return { part, partOffset: (chunk - part * FILE_CHUNKS_PER_PART) * SEALED_FILE_CHUNK_BYTES, chunk, skip: offset - chunk * FILE_CHUNK_BYTES };
}

/** A file offer as the sender's proxy signs it (inside a JWS), and the broker and recipients parse it. */
export interface SealedFileOffer {
  v: typeof MESSAGE_FORMAT_VERSION;
  kind: 'file';
  id: string;
  from: string;
  to: string[];
  /** Plaintext bytes. */
  size: number;
  /** The sealed file's parts, in order: blobs of the sender's proxy. */
  parts: BlobRef[];
  ttl: string;
  created: number;
  metadata: unknown;
  /** The file key, wrapped for each recipient (aligned with `to`), and committed to. */
  encryption_keys: string[];
  key_commitment: string;
}

/** Validates a file offer; `maxFileBytes` is MAX_FILE_SIZE. The parts must be exactly the file's geometry. */
export function parseSealedFileOffer(json: unknown, limits: TaskLimits & { maxFileBytes: number }): SealedFileOffer {
  return guarded(() => {
    const o = expectObject(json);
    if (field(o, 'v') !== MESSAGE_FORMAT_VERSION || field(o, 'kind') !== 'file')
      throw new InvalidInput('kind: not a file offer of the current format', 'unsupported_format');
    const to = expectRecipients(field(o, 'to'), 'to', limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS);
    const size = expectNonNegativeInt(field(o, 'size'), 'size');
    if (size > Math.min(limits.maxFileBytes, MAX_FILE_BYTES))
      throw new PayloadTooLarge(`size: ${size} bytes is over the limit of ${limits.maxFileBytes}`, 'file_too_large');
    const rawParts = field(o, 'parts');
    if (!Array.isArray(rawParts)) throw new InvalidInput('parts: expected an array');
    const expected = filePartSizes(size);
    if (rawParts.length !== expected.length) throw new InvalidInput(`parts: a file of ${size} bytes has ${expected.length} parts, not ${rawParts.length}`);
    const parts = rawParts.map((p, i) => parseBlobRef(p, `parts[${i}]`));
    parts.forEach((p, i) => {
      if (p.size !== expected[i]) throw new InvalidInput(`parts[${i}].size: expected ${expected[i]}`);
    });
    const keys = field(o, 'encryption_keys');
    if (!Array.isArray(keys) || keys.length !== to.length || keys.some((k) => typeof k !== 'string' || k.length === 0 || k.length > 1024)) {
      throw new InvalidInput(`encryption_keys: expected ${to.length} base64 strings (one per recipient)`);
    }
    const commitment = field(o, 'key_commitment');
    if (typeof commitment !== 'string' || commitment.length === 0 || commitment.length > 128)
      throw new InvalidInput('key_commitment: expected a base64 string');
    return {
      v: MESSAGE_FORMAT_VERSION,
      kind: 'file',
      id: parseUuid(field(o, 'id'), 'id'),
      from: parseBeamId(field(o, 'from'), 'from'),
      to,
      size,
      parts,
      ttl: parseTtl(field(o, 'ttl'), limits),
      created: expectNonNegativeInt(field(o, 'created'), 'created'),
      metadata: checkedMetadata(field(o, 'metadata')),
      encryption_keys: keys as string[],
      key_commitment: commitment,
    };
  });
}

/** The TTL of a file whose sender names none. */
export const DEFAULT_FILE_TTL = '1d';

/** What an app says about a file it uploads: query `to` (comma-separated) and `ttl`, header `Beam-Metadata` (JSON). */
export interface FileRequestParams {
  to?: string;
  ttl?: string;
  metadata?: string;
}

/** Validates an upload's parameters before a byte of the file is read; names the parameter at fault. */
export function parseFileRequest(params: FileRequestParams, limits: TaskLimits): { to: string[]; ttl: string; metadata: unknown } {
  if (params.to === undefined || params.to === '') throw new InvalidInput('to: required, the recipients (comma-separated app ids)');
  const to = expectRecipients(params.to.split(','), 'to', limits.maxRecipients ?? DEFAULT_MAX_RECIPIENTS);
  const ttl = parseTtl(params.ttl ?? DEFAULT_FILE_TTL, limits);
  if (params.metadata === undefined) return { to, ttl, metadata: null };
  if (jsonTextTooDeep(params.metadata)) throw new InvalidInput(`Beam-Metadata: JSON nested deeper than ${MAX_JSON_DEPTH} levels`, 'too_deep');
  let metadata: unknown;
  try {
    metadata = JSON.parse(params.metadata);
  } catch {
    throw new InvalidInput('Beam-Metadata: not JSON');
  }
  return { to, ttl, metadata: checkedMetadata(metadata) };
}
