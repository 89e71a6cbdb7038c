import { JetStreamApiError } from '@nats-io/jetstream';
import { StorageFull } from '@beamline/domain';
import { storageFullFrom } from './storage-full';

const apiError = (err_code: number, description: string, code = 503) => new JetStreamApiError({ code, err_code, description });

describe('storageFullFrom', () => {
  it('turns a full stream (10077 "maximum bytes exceeded") into StorageFull naming it', () => {
    const err = storageFullFrom(apiError(10077, 'maximum bytes exceeded'), 'BEAM_EVENTS');
    expect(err).toBeInstanceOf(StorageFull);
    expect(err?.store).toBe('BEAM_EVENTS');
    expect(err?.message).toBe('BEAM_EVENTS is full (JetStream: maximum bytes exceeded); retry once space frees up');
  });

  it('turns a bucket at its entry limit (10077 "maximum messages exceeded") into StorageFull', () => {
    expect(storageFullFrom(apiError(10077, 'maximum messages exceeded'), 'KV_beam-nonces')?.message).toBe(
      'KV_beam-nonces is full (JetStream: maximum messages exceeded); retry once space frees up',
    );
  });

  it('turns a full server store (10023 "insufficient resources") into StorageFull too', () => {
    expect(storageFullFrom(apiError(10023, 'insufficient resources'), 'KV_beam-nonces')?.message).toMatch(
      /^KV_beam-nonces: the NATS server's JetStream store is full/,
    );
  });

  it('leaves every other error alone', () => {
    expect(storageFullFrom(apiError(10077, 'some other store failure'), 'BEAM_EVENTS')).toBeUndefined();
    expect(storageFullFrom(apiError(10071, 'wrong last sequence: 3', 400), 'BEAM_EVENTS')).toBeUndefined();
    expect(storageFullFrom(new Error('maximum bytes exceeded'), 'BEAM_EVENTS')).toBeUndefined();
  });
});
