/**
 * Files store-and-forward, end to end encrypted (README, "Files"): app1 sends while app2 is not even asking;
 * app2 lists and downloads later, from any byte on. The broker's object store holds only sealed chunks, and a
 * recipient's proxy refuses a file whose parts were touched before it delivers its end.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Objm } from '@nats-io/obj';
import { jetstreamManager } from '@nats-io/jetstream';
import { BLOBS_BUCKET, BLOBS_STREAM, decodeJson, EVENTS_STREAM, subjects } from '@beamline/nats';
import { BeamClient } from '@beamline/client';
import { APP1, APP2, startTestNetwork, type TestNetwork } from './support/network';
import { openSse } from './support/sse-client';
import { StreamAccess } from './support/stream-access';

const MiB = 2 ** 20;
const MARKER = 'PLAINTEXT-MARKER-7f3a';
let t: TestNetwork;
let nats: StreamAccess;

beforeAll(async () => {
  t = await startTestNetwork();
  nats = await StreamAccess.open(t.net.natsUrl);
}, 120_000);

afterAll(async () => {
  await nats?.close();
  await t?.net.stop();
});

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const auth = (app: string) => ({ authorization: `ApiKey ${app} App1Secret` });

/** A file of `bytes` bytes that repeats MARKER, so a scan for plaintext has something to find. */
function fileOf(bytes: number): Buffer {
  const data = randomBytes(bytes);
  for (let at = 0; at + MARKER.length < bytes; at += 4096) data.write(MARKER, at, 'latin1');
  return data;
}

async function send(file: Buffer, to: string[], opts: { ttl?: string; metadata?: unknown } = {}): Promise<{ status: number; json: { id?: string } }> {
  const query = new URLSearchParams({ to: to.join(','), ...(opts.ttl ? { ttl: opts.ttl } : {}) });
  const res = await fetch(`${t.net.proxies[0].url}/v1/files?${query}`, {
    method: 'POST',
    headers: { ...auth(APP1), 'content-type': 'application/octet-stream', ...(opts.metadata ? { 'beam-metadata': JSON.stringify(opts.metadata) } : {}) },
    body: file,
  });
  return { status: res.status, json: (await res.json()) as { id?: string } };
}

async function list(
  app: string,
  proxy = 1,
  query = '',
): Promise<{ status: number; json: Array<{ id: string; size: number; metadata: unknown; from: string; to: string[] }> }> {
  const res = await fetch(`${t.net.proxies[proxy].url}/v1/files${query}`, { headers: auth(app) });
  return { status: res.status, json: (await res.json()) as Array<{ id: string; size: number; metadata: unknown; from: string; to: string[] }> };
}

/** The object names of file `id`'s parts, as its FileOffered names them. */
async function partsOf(id: string): Promise<string[]> {
  const jsm = await jetstreamManager(nats.nc);
  const m = await jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: subjects.fileOffered(id) });
  const event = decodeJson(m!.data) as { parts: Array<{ uploader: string; sha256: string }> };
  return event.parts.map((p) => `${p.uploader}/${p.sha256}`);
}

/** Waits (bounded) until none of `names` is in the object store; answers how many are left. */
async function partsLeft(names: string[], boundMs = 30_000): Promise<number> {
  const os = await new Objm(nats.nc).open(BLOBS_BUCKET);
  const deadline = Date.now() + boundMs;
  for (;;) {
    const left = (await os.list()).filter((o) => !o.deleted && names.includes(o.name)).length;
    if (left === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function download(id: string, app = APP2, range?: string, proxy = 1): Promise<{ status: number; bytes: Buffer; complete: boolean; headers: Headers }> {
  const res = await fetch(`${t.net.proxies[proxy].url}/v1/files/${id}`, { headers: { ...auth(app), ...(range ? { range } : {}) } });
  try {
    const bytes = Buffer.from(await res.arrayBuffer());
    return { status: res.status, bytes, complete: true, headers: res.headers };
  } catch {
    return { status: res.status, bytes: Buffer.alloc(0), complete: false, headers: res.headers };
  }
}

describe('a file sent while its recipient is away', () => {
  const file = fileOf(20 * MiB + 12_345);
  let id: string;

  it('is stored sealed, listed for the recipient later, and downloaded intact', async () => {
    const sent = await send(file, [APP2], { metadata: { name: 'scan.dcm' } });
    expect(sent.status).toBe(201);
    id = sent.json.id as string;
    const listed = await list(APP2, 1, '?wait_count=1&wait_time=10s');
    expect(listed.status).toBe(200);
    expect(listed.json).toEqual([expect.objectContaining({ id, from: APP1, to: [APP2], size: file.length, metadata: { name: 'scan.dcm' } })]);
    const got = await download(id);
    expect({ status: got.status, length: got.bytes.length, sha: sha256(got.bytes) }).toEqual({ status: 200, length: file.length, sha: sha256(file) });
  }, 120_000);

  it('resumes from any byte with Range', async () => {
    const offset = 9 * MiB + 77;
    const got = await download(id, APP2, `bytes=${offset}-`);
    expect(got.status).toBe(206);
    expect(got.headers.get('content-range')).toBe(`bytes ${offset}-${file.length - 1}/${file.length}`);
    expect(sha256(got.bytes)).toBe(sha256(file.subarray(offset)));
  }, 60_000);

  it('is 404 for an app that is not its recipient, and not listed for it', async () => {
    expect((await download(id, 'app2.proxy1.broker', undefined, 0)).status).toBe(404);
    expect((await list(APP1, 0)).json).toEqual([]);
  }, 30_000);

  it('leaves no plaintext in the object store', async () => {
    const jsm = await jetstreamManager(nats.nc);
    const info = await jsm.streams.info(BLOBS_STREAM);
    let scanned = 0;
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(BLOBS_STREAM, { seq }).catch(() => null);
      if (!m) continue;
      scanned += m.data.length;
      expect(Buffer.from(m.data).includes(MARKER)).toBe(false);
    }
    expect(scanned).toBeGreaterThan(file.length);
  }, 60_000);

  it('is gone from the listing once dropped, and its parts are deleted when every recipient dropped it', async () => {
    const parts = await partsOf(id);
    expect(parts).toHaveLength(3);
    const res = await fetch(`${t.net.proxies[1].url}/v1/files/${id}`, { method: 'DELETE', headers: auth(APP2) });
    expect(res.status).toBe(204);
    expect((await list(APP2)).json.map((f) => f.id)).not.toContain(id);
    expect((await download(id)).status).toBe(404);
    expect(await partsLeft(parts)).toBe(0);
  }, 60_000);
});

describe('the listing as Server-Sent Events', () => {
  const RECIPIENT = 'app1.proxy2.broker'; // an app no other test sends files to

  it('sends new_file for each offer, verified and opened like the listing, and resumes after Last-Event-ID', async () => {
    const url = `${t.net.proxies[1].url}/v1/files?wait_count=1&wait_time=20s`;
    const first = await openSse(url, auth(RECIPIENT).authorization);
    expect([first.status, first.contentType]).toEqual([200, expect.stringMatching(/^text\/event-stream/)]);
    const a = await send(fileOf(1000), [RECIPIENT], { metadata: { name: 'a' } });
    const [offered] = await first.waitForEvents(1);
    await first.ended;
    expect(offered.event).toBe('new_file');
    expect(JSON.parse(offered.data)).toEqual({
      id: a.json.id,
      from: APP1,
      to: [RECIPIENT],
      size: 1000,
      metadata: { name: 'a' },
      expiresAt: expect.any(String),
    });
    expect(offered.id).toMatch(/^\d+$/);

    const b = await send(fileOf(2000), [RECIPIENT]);
    const resumed = await openSse(url, auth(RECIPIENT).authorization, { 'last-event-id': offered.id as string });
    await resumed.ended;
    expect(resumed.events.map((e) => [e.event, (JSON.parse(e.data) as { id: string }).id])).toEqual([['new_file', b.json.id]]);

    // The client's stream: both offers, then it ends once the wait count holds.
    const client = new BeamClient(RECIPIENT, 'App1Secret', t.net.proxies[1].url);
    const seen: string[] = [];
    for await (const file of client.streamFiles({ waitCount: 2, waitTimeMs: 20_000 })) seen.push(file.id);
    expect(seen).toEqual([a.json.id, b.json.id]);
  }, 60_000);

  it('answers 400 naming wait_time before opening a stream', async () => {
    const res = await fetch(`${t.net.proxies[1].url}/v1/files?wait_time=soon`, { headers: { ...auth(RECIPIENT), accept: 'text/event-stream' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('wait_time') });
  });
});

describe('a file whose parts were touched in the store', () => {
  it('is refused before its end is delivered as success', async () => {
    const file = fileOf(10 * MiB);
    const sent = await send(file, [APP2]);
    expect(sent.status).toBe(201);
    const os = await new Objm(nats.nc).open(BLOBS_BUCKET);
    const parts = await partsOf(sent.json.id as string);
    expect(parts).toHaveLength(2);
    // An operator with NATS access changes a byte of the second part, under the same name.
    const name = parts[1];
    const bytes = Buffer.from((await os.getBlob(name))!);
    bytes[100] ^= 1;
    await os.putBlob({ name, metadata: (await os.info(name))!.metadata }, bytes);
    const got = await download(sent.json.id as string);
    expect(got.status).toBe(200); // the first part is intact: the download starts
    expect(got.complete && got.bytes.length === file.length).toBe(false);
  }, 60_000);

  it('is refused when two of its parts were swapped, or its last part was cut short', async () => {
    const file = fileOf(20 * MiB);
    const sent = await send(file, [APP2]);
    const os = await new Objm(nats.nc).open(BLOBS_BUCKET);
    const parts = await partsOf(sent.json.id as string);
    expect(parts).toHaveLength(3);
    const [first, second] = await Promise.all([os.getBlob(parts[0]), os.getBlob(parts[1])]);
    expect(first!.length).toBe(second!.length); // same size: only their order tells them apart
    await os.putBlob({ name: parts[0], metadata: (await os.info(parts[0]))!.metadata }, Buffer.from(second!));
    await os.putBlob({ name: parts[1], metadata: (await os.info(parts[1]))!.metadata }, Buffer.from(first!));
    const swapped = await download(sent.json.id as string);
    expect(swapped.complete && swapped.bytes.length === file.length).toBe(false);
    expect(swapped.bytes.length).toBeLessThan(8 * MiB); // not a byte of the (misplaced) first part was delivered as data

    const other = await send(file, [APP2]);
    const last = (await partsOf(other.json.id as string))[2];
    const whole = Buffer.from((await os.getBlob(last))!);
    await os.putBlob({ name: last, metadata: (await os.info(last))!.metadata }, whole.subarray(0, whole.length - 4096));
    const cut = await download(other.json.id as string);
    expect(cut.status).toBe(200);
    expect(cut.complete && cut.bytes.length === file.length).toBe(false);
    expect(cut.bytes.equals(file.subarray(0, cut.bytes.length))).toBe(true); // what came is the file's start, nothing else
  }, 90_000);
});

describe('expiry', () => {
  it('takes an expired file off the listing and the downloads, and deletes its parts', async () => {
    const sent = await send(fileOf(MiB), [APP2], { ttl: '6s' });
    expect(sent.status).toBe(201);
    const id = sent.json.id as string;
    expect((await list(APP2)).json.map((f) => f.id)).toContain(id);
    await new Promise((r) => setTimeout(r, 6_500));
    expect((await list(APP2)).json.map((f) => f.id)).not.toContain(id);
    expect((await download(id)).status).toBe(404);
    expect(await partsLeft(await partsOf(id))).toBe(0);
  }, 60_000);
});
