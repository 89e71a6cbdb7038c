import { httpErrorFor } from '@beamline/http';
import { BrokerUnavailable, StorageFull } from '@beamline/domain';
import { brokerError } from './broker-errors';

describe('brokerError', () => {
  it('passes a full store through to the app as the same 507 and JSON error', () => {
    const body = { error: 'storage_full', message: 'BEAM_EVENTS has no room for this write (21 MiB): 95% …', store: 'BEAM_EVENTS' };
    const err = brokerError(507, body);
    expect(err).toBeInstanceOf(StorageFull);
    expect(httpErrorFor(err)).toEqual({ status: 507, body });
  });

  it("passes a quota refusal through with the quota named and the broker's Retry-After", () => {
    const body = { error: 'quota_exceeded', quota: 'write_rate', message: 'write_rate: proxy p1.b writes faster than 5 per second (QUOTA_WRITE_RATE)' };
    expect(httpErrorFor(brokerError(429, body, '3'))).toEqual({ status: 429, body, headers: { 'Retry-After': '3' } });
    const bytes = { error: 'quota_exceeded', quota: 'live_bytes', message: 'live_bytes: over' };
    expect(httpErrorFor(brokerError(507, bytes))).toEqual({ status: 507, body: bytes });
  });

  it('passes the Retry-After of any other 429 through', () => {
    expect(httpErrorFor(brokerError(429, { error: 'too_many_uploads', message: 'busy' }, '4'))?.headers).toEqual({ 'Retry-After': '4' });
  });

  it('keeps the broker answer other errors map to, e.g. 502 for one it has no type for', () => {
    expect(brokerError(500, { error: 'internal', message: 'internal error' })).toBeInstanceOf(BrokerUnavailable);
    expect(httpErrorFor(brokerError(409, { error: 'task_exists', message: 'id: exists' }))?.status).toBe(409);
  });
});
