import {
  BrokerTimeout,
  BrokerUnavailable,
  Conflict,
  DomainError,
  Forbidden,
  InvalidInput,
  NotFound,
  PayloadTooLarge,
  RecipientsWithoutCertificate,
  StorageFull,
  Unauthenticated,
  UpgradeRequired,
} from './errors';

describe('domain errors', () => {
  it.each([
    [new InvalidInput('ttl: must be > 0'), 'InvalidInput', 'invalid_input', 'invalid_input'],
    [new Unauthenticated('bad key'), 'Unauthenticated', 'unauthenticated', 'unauthenticated'],
    [new Forbidden('no'), 'Forbidden', 'forbidden', 'forbidden'],
    [new NotFound('gone'), 'NotFound', 'not_found', 'not_found'],
    [new Conflict('dup'), 'Conflict', 'conflict', 'conflict'],
    [new PayloadTooLarge('big'), 'PayloadTooLarge', 'payload_too_large', 'payload_too_large'],
    [new UpgradeRequired('tcp'), 'UpgradeRequired', 'upgrade_required', 'upgrade_required'],
    [new StorageFull('BEAM_EVENTS', 'full'), 'StorageFull', 'storage_full', 'storage_full'],
    [new BrokerUnavailable('down'), 'BrokerUnavailable', 'broker_unavailable', 'broker_unavailable'],
    [new BrokerTimeout('slow'), 'BrokerTimeout', 'broker_timeout', 'broker_timeout'],
  ])('%s carries its name, kind and default code', (err, name, kind, code) => {
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe(name);
    expect(err.kind).toBe(kind);
    expect(err.code).toBe(code);
  });

  it('keeps the message naming the field', () => {
    expect(new InvalidInput('ttl: must be > 0').message).toBe('ttl: must be > 0');
  });

  it('accepts a custom stable code', () => {
    const e = new InvalidInput('id: bad', 'bad_id');
    expect(e.code).toBe('bad_id');
    expect(e.kind).toBe('invalid_input');
  });

  it('names the full store for a 507', () => {
    const e = new StorageFull('BEAM_EVENTS', 'BEAM_EVENTS is full');
    expect(e.store).toBe('BEAM_EVENTS');
    expect(e.message).toBe('BEAM_EVENTS is full');
  });

  it('lists the proxies without certificate for a 424', () => {
    const e = new RecipientsWithoutCertificate(['proxy3.broker', 'proxy4.broker']);
    expect(e.kind).toBe('unknown_recipients');
    expect(e.code).toBe('unknown_recipients');
    expect(e.proxyIds).toEqual(['proxy3.broker', 'proxy4.broker']);
    expect(e.message).toContain('proxy3.broker');
    expect(e.name).toBe('RecipientsWithoutCertificate');
  });
});
