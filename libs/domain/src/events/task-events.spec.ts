import { DomainError, InvalidInput } from '../errors';
import { parseEvent } from './task-events';

const ID = '70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6a';
const created = {
  type: 'TaskCreated',
  v: 1,
  taskId: ID,
  from: 'app1.proxy1.broker',
  to: ['app1.proxy2.broker'],
  message: 'eyJh.eyJi.c2ln',
  digest: 'sha256-abc',
  receivedAt: 1_000,
  expiresAt: 11_000,
};
const put = {
  type: 'ResultPut',
  v: 1,
  taskId: ID,
  from: 'app1.proxy2.broker',
  to: ['app1.proxy1.broker'],
  status: 'succeeded',
  message: 'eyJh.eyJi.c2ln',
  receivedAt: 2_000,
};
const expired = { type: 'TaskExpired', v: 1, taskId: ID, expiredAt: 11_000 };
const expiredWithParties = { ...expired, from: 'app1.proxy1.broker', to: ['app1.proxy2.broker'] };
const blob = { uploader: 'proxy1.broker', sha256: 'A'.repeat(43), size: 60_000_000 };
const createdWithBlob = { ...created, blob };
const putWithBlob = { ...put, blob: { ...blob, uploader: 'proxy2.broker' } };

describe('parseEvent', () => {
  it.each([created, put, expired, expiredWithParties, createdWithBlob, putWithBlob])('round-trips a valid %s event through JSON', (event) => {
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('rejects a blob without a valid uploader, digest or size', () => {
    expect(() => parseEvent({ ...created, blob: { ...blob, uploader: 'not an id' } })).toThrow(/^blob.uploader: /);
    expect(() => parseEvent({ ...created, blob: { ...blob, sha256: 'short' } })).toThrow(/^blob.sha256: /);
    expect(() => parseEvent({ ...put, blob: { ...blob, size: -1 } })).toThrow(/^blob.size: /);
  });

  it('drops unknown extra fields', () => {
    expect(parseEvent({ ...expired, extra: 'x' })).toEqual(expired);
  });

  it('rejects an unknown event type', () => {
    expect(() => parseEvent({ ...expired, type: 'TaskDeleted' })).toThrow(/^type: /);
  });

  it('rejects an unknown schema version', () => {
    expect(() => parseEvent({ ...created, v: 2 })).toThrow(/^v: /);
    expect(() => parseEvent({ ...created, v: undefined })).toThrow(/^v: /);
  });

  it.each([
    [created, { taskId: 'x' }, 'taskId'],
    [created, { to: [] }, 'to'],
    [created, { message: '' }, 'message'],
    [created, { digest: 3 }, 'digest'],
    [created, { receivedAt: -1 }, 'receivedAt'],
    [created, { expiresAt: 1.5 }, 'expiresAt'],
    [put, { status: 'done' }, 'status'],
    [put, { from: 'a..b' }, 'from'],
    [put, { receivedAt: '1' }, 'receivedAt'],
    [expired, { expiredAt: null }, 'expiredAt'],
  ])('rejects bad fields naming them', (base, overrides, field) => {
    expect(() => parseEvent({ ...base, ...overrides })).toThrow(InvalidInput);
    expect(() => parseEvent({ ...base, ...overrides })).toThrow(new RegExp(`^${field}: `));
  });

  it.each([null, 1, 'TaskCreated', [], [created]])('rejects the non-object %j', (v) => {
    expect(() => parseEvent(v)).toThrow(DomainError);
  });
});
