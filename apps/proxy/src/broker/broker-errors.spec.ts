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

  it('keeps the broker answer other errors map to, e.g. 502 for one it has no type for', () => {
    expect(brokerError(500, { error: 'internal', message: 'internal error' })).toBeInstanceOf(BrokerUnavailable);
    expect(httpErrorFor(brokerError(409, { error: 'task_exists', message: 'id: exists' }))?.status).toBe(409);
  });
});
