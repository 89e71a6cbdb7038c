import { JetStreamApiError } from '@nats-io/jetstream';
import { Conflict, StorageFull } from '@beamline/domain';
import { httpErrorFor } from './error-status';

describe('httpErrorFor', () => {
  it('answers a full store with 507 storage_full, naming the store', () => {
    expect(httpErrorFor(new StorageFull('BEAM_EVENTS', 'BEAM_EVENTS is full: 95% of its 200 MiB limit'))).toEqual({
      status: 507,
      body: { error: 'storage_full', message: 'BEAM_EVENTS is full: 95% of its 200 MiB limit', store: 'BEAM_EVENTS' },
    });
  });

  it('still answers a JetStream outage with 503, for the proxy to retry', () => {
    const outage = new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' });
    expect(httpErrorFor(outage)?.status).toBe(503);
  });

  it('maps other domain errors by kind, as before', () => {
    expect(httpErrorFor(new Conflict('id: exists', 'task_exists'))).toEqual({ status: 409, body: { error: 'task_exists', message: 'id: exists' }, headers: undefined });
  });
});
