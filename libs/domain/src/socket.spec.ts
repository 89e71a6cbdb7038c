import { applyEvent, emptyProjection, socketsFor } from './projection';
import { DEFAULT_MAX_TTL_MS } from './messages';
import { parseSocketMetadataHeader, parseSocketRequest } from './socket';
import { parseLogEvent, type SocketRequested } from './events';

const id = '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8';
const requested = (over: Partial<SocketRequested> = {}): SocketRequested => ({
  type: 'SocketRequested',
  v: 1,
  socketId: id,
  from: 'app1.proxy1.broker',
  to: ['app2.proxy2.broker'],
  message: 'jws',
  receivedAt: 1000,
  expiresAt: 61_000,
  ...over,
});

const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe('socket requests', () => {
  const request = { id, from: 'app1.proxy1.broker', to: ['app2.proxy2.broker'], ttl: '60s', metadata: { a: 1 }, eph: 'A'.repeat(43) };

  it('bounds the ttl like a task: more than the maximum or zero is refused naming ttl', () => {
    const limits = { maxTtlMs: DEFAULT_MAX_TTL_MS };
    expect(parseSocketRequest({ ...request, ttl: '7d' }, limits).ttl).toBe('7d');
    expect(() => parseSocketRequest({ ...request, ttl: '8d' }, limits)).toThrow(/^ttl: must be at most 604800s/);
    expect(() => parseSocketRequest({ ...request, ttl: '0s' }, limits)).toThrow(/^ttl: must be > 0/);
  });

  it('refuses metadata nested deeper than a task may have it, in the request and in the header', () => {
    expect(() => parseSocketRequest({ ...request, metadata: JSON.parse(deep(6_000)) })).toThrow(/^metadata: nested deeper than/);
    expect(() => parseSocketMetadataHeader(deep(6_000))).toThrow(/^metadata: nested deeper than/);
    expect(parseSocketMetadataHeader(deep(10))).toEqual(JSON.parse(deep(10)));
  });

  it('parses the signed request (exactly one recipient) and the metadata header', () => {
    const r = { id, from: 'app1.proxy1.broker', to: ['app2.proxy2.broker'], ttl: '60s', metadata: { a: 1 }, eph: 'A'.repeat(43) };
    expect(parseSocketRequest(r)).toEqual(r);
    expect(() => parseSocketRequest({ ...r, to: ['a.proxy2.broker', 'b.proxy2.broker'] })).toThrow(/exactly one/);
    expect(() => parseSocketRequest({ ...r, eph: 'short' })).toThrow();
    expect(parseSocketMetadataHeader(undefined)).toBeNull();
    expect(parseSocketMetadataHeader('{"x":[1]}')).toEqual({ x: [1] });
    expect(() => parseSocketMetadataHeader('{nope')).toThrow(/not JSON/);
  });

  it('projects live requests per recipient; connected or expired requests disappear; tasks are untouched', () => {
    const s = emptyProjection();
    applyEvent(s, parseLogEvent(requested()), 1);
    expect(socketsFor(s, 'app2.proxy2.broker', 2000).map((x) => x.socketId)).toEqual([id]);
    expect(socketsFor(s, 'app1.proxy1.broker', 2000)).toEqual([]);
    expect(socketsFor(s, 'app2.proxy2.broker', 61_000)).toEqual([]);
    applyEvent(s, parseLogEvent(requested({ from: 'evil.proxy1.broker' })), 2); // create-once
    expect(s.sockets.get(id)?.from).toBe('app1.proxy1.broker');
    applyEvent(s, parseLogEvent({ type: 'SocketConnected', v: 1, socketId: id, by: 'app2.proxy2.broker', connectedAt: 3000 }), 3);
    expect(socketsFor(s, 'app2.proxy2.broker', 3000)).toEqual([]);
    expect(s.tasks.size).toBe(0);
    expect(s.lastSeq).toBe(3);
    expect(() => parseLogEvent({ ...requested(), to: [] })).toThrow();
  });
});
