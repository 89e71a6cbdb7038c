import { JetStreamApiError } from '@nats-io/jetstream';
import { Conflict, QuotaExceeded, StorageFull, TooManyRequests } from '@beamline/domain';
import { DirectGetError } from '@beamline/nats';
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

  it('answers a direct get that got no answer (a NATS node just died) with 503, for the proxy to retry, not 500', () => {
    expect(httpErrorFor(new DirectGetError('direct get on BEAM_EVENTS: no answer within 5000 ms'))).toEqual({
      status: 503,
      body: { error: 'nats_unavailable', message: 'event log briefly unavailable, retry: direct get on BEAM_EVENTS: no answer within 5000 ms' },
    });
  });

  it('answers a participant over a limit with 429 and Retry-After', () => {
    expect(httpErrorFor(new TooManyRequests('body: too many uploads', 'too_many_uploads', 2))).toEqual({
      status: 429,
      body: { error: 'too_many_uploads', message: 'body: too many uploads' },
      headers: { 'Retry-After': '2' },
    });
  });

  it('answers a proxy over a rate or live-task quota with 429 and Retry-After, naming the quota', () => {
    expect(httpErrorFor(new QuotaExceeded('live_tasks', 'live_tasks: over', 10))).toEqual({
      status: 429,
      body: { error: 'quota_exceeded', quota: 'live_tasks', message: 'live_tasks: over' },
      headers: { 'Retry-After': '10' },
    });
  });

  it('answers a proxy over its byte quota with 507, naming the quota', () => {
    expect(httpErrorFor(new QuotaExceeded('live_bytes', 'live_bytes: over'))).toEqual({
      status: 507,
      body: { error: 'quota_exceeded', quota: 'live_bytes', message: 'live_bytes: over' },
    });
  });

  it('maps other domain errors by kind, as before', () => {
    expect(httpErrorFor(new Conflict('id: exists', 'task_exists'))).toEqual({
      status: 409,
      body: { error: 'task_exists', message: 'id: exists' },
      headers: undefined,
    });
  });
});
