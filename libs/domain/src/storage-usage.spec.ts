import { StorageFull } from './errors';
import { assertRoomFor, CLIENT_WRITES_STOP_AT, describeUsage, SMALLEST_WRITE_BYTES, storageReasons, usedRatio, type StoreUsage } from './storage-usage';

const MiB = 2 ** 20;
const events = (usedMiB: number): StoreUsage => ({
  store: 'BEAM_EVENTS',
  usedBytes: usedMiB * MiB,
  maxBytes: 200 * MiB,
  whenFull: 'refuse',
  writesStopAt: CLIENT_WRITES_STOP_AT,
});
const audit = (usedMiB: number): StoreUsage => ({ store: 'BEAM_AUDIT', usedBytes: usedMiB * MiB, maxBytes: 100 * MiB, whenFull: 'drop_oldest' });
const nonces = (usedMiB: number): StoreUsage => ({ store: 'KV_beam-nonces', usedBytes: usedMiB * MiB, maxBytes: 10 * MiB, whenFull: 'refuse' });

describe('storageReasons', () => {
  it('says nothing below 80%', () => {
    expect(storageReasons([events(159), audit(79), nonces(7.9)])).toEqual([]);
  });

  it('names a store nearing its limit, its usage, and when writes will stop', () => {
    expect(storageReasons([events(170)])).toEqual(['BEAM_EVENTS at 85% of its 200 MiB limit (170 MiB): new writes will be refused from 95%']);
  });

  it('says writes are refused once not even the smallest write fits before that share', () => {
    const almost: StoreUsage = { ...events(0), usedBytes: Math.floor(190 * MiB) - 1_000 };
    expect(storageReasons([almost])).toEqual([
      'BEAM_EVENTS at 94.9% of its 200 MiB limit (190 MiB): new writes are refused (507 storage_full) until space frees up',
    ]);
    expect(() => assertRoomFor(almost, SMALLEST_WRITE_BYTES)).toThrow(StorageFull);
  });

  it('says writes are refused once the store reached the share where they stop', () => {
    expect(storageReasons([events(190)])).toEqual([
      'BEAM_EVENTS at 95% of its 200 MiB limit (190 MiB): new writes are refused (507 storage_full) until space frees up',
    ]);
  });

  it('for a bucket without headroom, writes stop only at the limit itself', () => {
    expect(storageReasons([nonces(9.6)])[0]).toMatch(/^KV_beam-nonces at 96% .*refused from 100%$/);
    expect(storageReasons([nonces(10)])[0]).toMatch(/^KV_beam-nonces at 100% .*are refused \(507 storage_full\)/);
  });

  it('says a discard-old store drops its oldest messages', () => {
    expect(storageReasons([audit(99)])).toEqual(['BEAM_AUDIT at 99% of its 100 MiB limit (99 MiB): at its limit its oldest messages are dropped to make room']);
  });

  it('lists every store concerned, in order, and ignores stores without a limit', () => {
    const unlimited: StoreUsage = { store: 'OTHER', usedBytes: 10 ** 12, maxBytes: -1, whenFull: 'refuse' };
    expect(storageReasons([events(195), unlimited, audit(90)]).map((r) => r.split(' ')[0])).toEqual(['BEAM_EVENTS', 'BEAM_AUDIT']);
  });
});

describe('assertRoomFor', () => {
  it('admits a write that stays within the share where writes stop', () => {
    expect(() => assertRoomFor(events(180), 10 * MiB)).not.toThrow();
  });

  it('refuses one that would pass it, naming the store and its usage', () => {
    let err: unknown;
    try {
      assertRoomFor(events(180), 10 * MiB);
      assertRoomFor(events(180), 10 * MiB + 1);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StorageFull);
    expect((err as StorageFull).store).toBe('BEAM_EVENTS');
    expect((err as StorageFull).code).toBe('storage_full');
    expect((err as StorageFull).message).toBe(
      'BEAM_EVENTS has no room for this write (10 MiB): 90% of its 200 MiB limit (180 MiB) used, and writes stop at 95%; retry once expired tasks have been purged',
    );
  });

  it('refuses even a tiny write once the share is reached', () => {
    expect(() => assertRoomFor(events(190), 1)).toThrow(StorageFull);
  });

  it('admits when the usage is unknown or the store has no limit', () => {
    expect(() => assertRoomFor(undefined, 10 ** 9)).not.toThrow();
    expect(() => assertRoomFor({ store: 'X', usedBytes: 10 ** 12, maxBytes: 0, whenFull: 'refuse' }, 1)).not.toThrow();
  });

  it('without writesStopAt, allows up to the limit itself', () => {
    expect(() => assertRoomFor(nonces(9), MiB)).not.toThrow();
    expect(() => assertRoomFor(nonces(9), MiB + 1)).toThrow(StorageFull);
  });
});

describe('usedRatio and describeUsage', () => {
  it('report the share of the limit', () => {
    expect(usedRatio(events(100))).toBe(0.5);
    expect(usedRatio({ store: 'X', usedBytes: 5, maxBytes: -1, whenFull: 'refuse' })).toBeUndefined();
    expect(describeUsage({ store: 'X', usedBytes: 5 * MiB, maxBytes: -1, whenFull: 'refuse' })).toBe('5 MiB (no limit)');
  });

  it('never rounds up to a share the store has not reached', () => {
    expect(describeUsage(events(199.99))).toMatch(/^99.9% /);
    expect(describeUsage(events(199.999))).toMatch(/^99.9% /);
    expect(describeUsage({ ...events(0), usedBytes: 29, maxBytes: 100 })).toMatch(/^29% /);
  });
});
