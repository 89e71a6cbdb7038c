import { applyEvent, emptyProjection, usageOfProxy } from './projection';
import { parseLogEvent, type FileOffered, type StoredBlob } from './events';
import { filesFor, filesToRemove, liveFileFor } from './file-views';
import { decideDropFile, decideOfferFile, type OfferFile } from './file-deciders';
import {
  FILE_CHUNK_BYTES,
  FILE_PART_BYTES,
  FILE_TAG_BYTES,
  fileChunkCount,
  filePartSizes,
  fileReadStart,
  parseFileRequest,
  parseSealedFileOffer,
  SEALED_FILE_CHUNK_BYTES,
  sealedFileSize,
} from './files';

const MiB = FILE_CHUNK_BYTES;
const ID = '0f1e2d3c-4b5a-4697-8877-665544332211';
const A1P1 = 'app1.proxy1.broker';
const A2P2 = 'app2.proxy2.broker';
const A3P3 = 'app3.proxy3.broker';
const sha = (c: string) => c.repeat(43);

describe('file geometry', () => {
  it('seals an empty file as one empty chunk, and adds one tag per chunk', () => {
    expect([fileChunkCount(0), sealedFileSize(0)]).toEqual([1, FILE_TAG_BYTES]);
    expect([fileChunkCount(MiB), sealedFileSize(MiB)]).toEqual([1, SEALED_FILE_CHUNK_BYTES]);
    expect([fileChunkCount(MiB + 1), sealedFileSize(MiB + 1)]).toEqual([2, MiB + 1 + 2 * FILE_TAG_BYTES]);
  });

  it('cuts the sealed file into parts of eight sealed chunks, the last shorter', () => {
    expect(filePartSizes(0)).toEqual([FILE_TAG_BYTES]);
    expect(filePartSizes(8 * MiB)).toEqual([FILE_PART_BYTES]);
    expect(filePartSizes(8 * MiB + 5)).toEqual([FILE_PART_BYTES, 5 + FILE_TAG_BYTES]);
  });

  it('starts a read at the part and chunk that hold the offset', () => {
    expect(fileReadStart(0)).toEqual({ part: 0, partOffset: 0, chunk: 0, skip: 0 });
    expect(fileReadStart(3 * MiB + 7)).toEqual({ part: 0, partOffset: 3 * SEALED_FILE_CHUNK_BYTES, chunk: 3, skip: 7 });
    expect(fileReadStart(9 * MiB)).toEqual({ part: 1, partOffset: SEALED_FILE_CHUNK_BYTES, chunk: 9, skip: 0 });
  });
});

describe('parseSealedFileOffer', () => {
  const limits = { maxTtlMs: 86_400_000, maxFileBytes: 2 ** 30 };
  const offer = {
    v: 2,
    kind: 'file',
    id: ID,
    from: A1P1,
    to: [A2P2],
    size: 9 * MiB,
    parts: filePartSizes(9 * MiB).map((size, i) => ({ sha256: sha(String(i)), size })),
    ttl: '1h',
    created: 1_000,
    metadata: { name: 'scan.dcm' },
    encryption_keys: ['a2V5'],
    key_commitment: 'Y29tbWl0',
  };

  it('takes an offer whose parts are exactly the geometry of its size', () => {
    expect(parseSealedFileOffer(offer, limits)).toEqual(offer);
  });

  it('refuses missing, extra or resized parts, a size over MAX_FILE_SIZE and keys that do not match the recipients', () => {
    expect(() => parseSealedFileOffer({ ...offer, parts: offer.parts.slice(1) }, limits)).toThrow(/^parts: a file of \d+ bytes has 2 parts, not 1/);
    expect(() => parseSealedFileOffer({ ...offer, parts: [...offer.parts, offer.parts[1]] }, limits)).toThrow(/^parts: /);
    expect(() => parseSealedFileOffer({ ...offer, parts: [offer.parts[1], offer.parts[0]] }, limits)).toThrow(/^parts\[0\].size: /);
    expect(() => parseSealedFileOffer({ ...offer, size: 2 ** 31 }, limits)).toThrow(/^size: .* over the limit/);
    expect(() => parseSealedFileOffer({ ...offer, to: [A2P2, A3P3] }, limits)).toThrow(/^encryption_keys: expected 2 /);
    expect(() => parseSealedFileOffer({ ...offer, kind: 'task' }, limits)).toThrow(/^kind: /);
  });
});

describe('file views in the projection', () => {
  const parts: StoredBlob[] = [{ uploader: 'proxy1.broker', sha256: sha('a'), size: 5_000 }];
  const offered = (o: Partial<FileOffered> = {}): FileOffered => ({
    type: 'FileOffered',
    v: 1,
    fileId: ID,
    from: A1P1,
    to: [A2P2, A3P3],
    message: 'jws',
    size: 4_984,
    parts,
    receivedAt: 1_000,
    expiresAt: 11_000,
    ...o,
  });

  it('lists a file for its recipients until they drop it or it expires, and charges its parts to the sender', () => {
    const s = emptyProjection();
    applyEvent(s, offered(), 1, 300);
    expect(filesFor(s.files, A2P2, 5_000).map((f) => f.fileId)).toEqual([ID]);
    expect(filesFor(s.files, A1P1, 5_000)).toEqual([]);
    expect(liveFileFor(s.files, ID, A1P1, 5_000)?.fileId).toBe(ID);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 0, bytes: 5_300 });

    applyEvent(s, { type: 'FileDropped', v: 1, fileId: ID, by: A2P2, droppedAt: 2_000 }, 2);
    expect(filesFor(s.files, A2P2, 5_000)).toEqual([]);
    expect(liveFileFor(s.files, ID, A2P2, 5_000)).toBeUndefined();
    expect(filesFor(s.files, A3P3, 5_000).map((f) => f.fileId)).toEqual([ID]);
    expect(filesToRemove(s.files, 5_000)).toEqual([]);
    expect(filesToRemove(s.files, 11_000).map((f) => f.fileId)).toEqual([ID]);
    expect(filesFor(s.files, A3P3, 11_000)).toEqual([]);

    applyEvent(s, { type: 'FileExpired', v: 1, fileId: ID, expiredAt: 11_000 }, 3);
    expect(s.files.size).toBe(0);
    expect(usageOfProxy(s, 'proxy1.broker')).toEqual({ tasks: 0, bytes: 0 });
  });

  it('lets the parts go once every recipient dropped the file, and ignores drops by others', () => {
    const s = emptyProjection();
    applyEvent(s, offered(), 1, 300);
    applyEvent(s, { type: 'FileDropped', v: 1, fileId: ID, by: 'app9.proxy9.broker', droppedAt: 2_000 }, 2);
    applyEvent(s, { type: 'FileDropped', v: 1, fileId: ID, by: A2P2, droppedAt: 2_000 }, 3);
    expect(filesToRemove(s.files, 5_000)).toEqual([]);
    applyEvent(s, { type: 'FileDropped', v: 1, fileId: ID, by: A3P3, droppedAt: 2_000 }, 4);
    expect(filesToRemove(s.files, 5_000).map((f) => f.fileId)).toEqual([ID]);
  });

  it('keeps the first offer of an id', () => {
    const s = emptyProjection();
    applyEvent(s, offered(), 1, 300);
    applyEvent(s, offered({ from: 'app9.proxy9.broker' }), 2, 300);
    expect(s.files.get(ID)?.from).toBe(A1P1);
  });
});

describe('file deciders', () => {
  const offer: OfferFile = { fileId: ID, from: A1P1, to: [A2P2], message: 'jws', size: 10, parts: [], ttlMs: 60_000 };

  it('offers once: the same signed offer again is answered as before, another one is a conflict', () => {
    const first = decideOfferFile(undefined, offer, 1_000);
    expect(first).toMatchObject({ kind: 'append', event: { type: 'FileOffered', receivedAt: 1_000, expiresAt: 61_000 } });
    const stored = { seq: 7, event: (first as { event: FileOffered }).event };
    expect(decideOfferFile(stored, offer, 2_000)).toEqual({ kind: 'already', seq: 7 });
    expect(() => decideOfferFile(stored, { ...offer, message: 'other' }, 2_000)).toThrow(/already exists/);
  });

  it('lets a recipient drop a live file once, and tells anyone else it is not found', () => {
    const stored = { seq: 7, event: (decideOfferFile(undefined, offer, 1_000) as { event: FileOffered }).event };
    expect(decideDropFile(ID, stored, undefined, A2P2, 2_000)).toMatchObject({ kind: 'append', event: { type: 'FileDropped', by: A2P2 } });
    expect(decideDropFile(ID, stored, { seq: 8, event: { type: 'FileDropped', v: 1, fileId: ID, by: A2P2, droppedAt: 2_000 } }, A2P2, 3_000)).toEqual({
      kind: 'already',
      seq: 8,
    });
    expect(() => decideDropFile(ID, stored, undefined, A1P1, 2_000)).toThrow(`file ${ID} not found`);
    expect(() => decideDropFile(ID, stored, undefined, A2P2, 61_000)).toThrow(/not found/);
    expect(() => decideDropFile(ID, undefined, undefined, A2P2, 2_000)).toThrow(/not found/);
  });
});

describe('file events in the log', () => {
  it.each([
    {
      type: 'FileOffered',
      v: 1,
      fileId: ID,
      from: A1P1,
      to: [A2P2],
      message: 'jws',
      size: 3,
      parts: [{ uploader: 'proxy1.broker', sha256: sha('c'), size: 19 }],
      receivedAt: 1,
      expiresAt: 2,
    },
    { type: 'FileDropped', v: 1, fileId: ID, by: A2P2, droppedAt: 5 },
    { type: 'FileExpired', v: 1, fileId: ID, expiredAt: 9 },
  ])('round-trips a $type through JSON', (event) => {
    expect(parseLogEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('refuses a FileOffered without parts or with a part of no uploader', () => {
    const base = { type: 'FileOffered', v: 1, fileId: ID, from: A1P1, to: [A2P2], message: 'jws', size: 3, receivedAt: 1, expiresAt: 2 };
    expect(() => parseLogEvent({ ...base, parts: [] })).toThrow(/^parts: /);
    expect(() => parseLogEvent({ ...base, parts: [{ sha256: sha('c'), size: 19 }] })).toThrow(/^parts\[0\].uploader: /);
  });
});

describe('parseFileRequest', () => {
  const limits = { maxTtlMs: 86_400_000 };

  it('takes comma-separated recipients, a ttl (1d when none) and JSON metadata', () => {
    expect(parseFileRequest({ to: `${A2P2},${A3P3}`, metadata: '{"name":"x"}' }, limits)).toEqual({ to: [A2P2, A3P3], ttl: '1d', metadata: { name: 'x' } });
    expect(parseFileRequest({ to: A2P2, ttl: '5m' }, limits)).toEqual({ to: [A2P2], ttl: '5m', metadata: null });
  });

  it('names the parameter at fault', () => {
    expect(() => parseFileRequest({}, limits)).toThrow(/^to: required/);
    expect(() => parseFileRequest({ to: 'not an id' }, limits)).toThrow(/^to\[0\]: /);
    expect(() => parseFileRequest({ to: `${A2P2},${A2P2}` }, limits)).toThrow(/^to: duplicate/);
    expect(() => parseFileRequest({ to: A2P2, ttl: '30d' }, limits)).toThrow(/^ttl: /);
    expect(() => parseFileRequest({ to: A2P2, metadata: '{' }, limits)).toThrow(/^Beam-Metadata: not JSON/);
  });
});
