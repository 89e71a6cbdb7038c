import { disconnected, lastDisconnectOf, parsePresenceEntry, parseProxyRecord, seen, statusOf } from './presence-record';

const P = 'proxy1.broker';

describe('proxy records', () => {
  it('keeps first_seen and advances last_seen', () => {
    const r1 = seen(undefined, P, 1000);
    expect(r1).toEqual({ proxyId: P, first_seen: 1000, last_seen: 1000 });
    const r2 = seen(r1, P, 5000);
    expect(r2).toEqual({ proxyId: P, first_seen: 1000, last_seen: 5000 });
    expect(seen(r2, P, 4000).last_seen).toBe(5000); // a late heartbeat never moves it back
  });

  it('records a clean close as last_disconnect', () => {
    const r = disconnected(seen(undefined, P, 1000), P, 7000);
    expect(r).toEqual({ proxyId: P, first_seen: 1000, last_seen: 7000, last_disconnect: 7000 });
    expect(lastDisconnectOf(r)).toBe(7000);
  });

  it('reports the last heartbeat when the holding broker crashed (keys expired, no clean close)', () => {
    const earlierClose = disconnected(seen(undefined, P, 1000), P, 2000);
    const reconnectedThenCrashed = seen(seen(earlierClose, P, 3000), P, 13_000);
    expect(lastDisconnectOf(reconnectedThenCrashed)).toBe(13_000);
    expect(statusOf(P, reconnectedThenCrashed, [])).toEqual({ connected: false, proxyId: P, lastDisconnect: 13_000 });
  });

  it('is connected while any presence entry exists, since the earliest one', () => {
    const r = disconnected(seen(undefined, P, 1000), P, 2000);
    const s = statusOf(P, r, [
      { proxyId: P, since: 9000 },
      { proxyId: P, since: 8000 },
    ]);
    expect(s).toMatchObject({ connected: true, since: 8000, connections: 2 });
  });

  it('never seen: no status', () => {
    expect(statusOf(P, undefined, [])).toBeUndefined();
  });

  it('parses stored values defensively', () => {
    expect(parsePresenceEntry({ proxyId: P, since: 5 })).toEqual({ proxyId: P, since: 5 });
    expect(parsePresenceEntry({ proxyId: P })).toBeUndefined();
    expect(parsePresenceEntry('x')).toBeUndefined();
    expect(parseProxyRecord({ proxyId: P, first_seen: 1, last_seen: 2 })).toEqual({ proxyId: P, first_seen: 1, last_seen: 2 });
    expect(parseProxyRecord({ proxyId: P, first_seen: 1, last_seen: 2, last_disconnect: 3 })).toEqual({
      proxyId: P,
      first_seen: 1,
      last_seen: 2,
      last_disconnect: 3,
    });
    expect(parseProxyRecord({ proxyId: P, first_seen: 1, last_seen: 2, last_disconnect: 'x' })).toBeUndefined();
    expect(parseProxyRecord(null)).toBeUndefined();
  });
});
