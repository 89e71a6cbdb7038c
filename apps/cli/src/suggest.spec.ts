import { closest, didYouMean, editDistance } from './suggest';

describe('did you mean', () => {
  it('counts a swap of two neighbours as one edit', () => {
    expect(editDistance('sing', 'sign')).toBe(1);
    expect(editDistance('replay', 'replay')).toBe(0);
    expect(editDistance('', 'abc')).toBe(3);
  });

  it('suggests close names and prefixes, and nothing for unrelated words', () => {
    expect(closest('sing', ['init', 'enroll', 'sign', 'revoke'])).toBe('sign');
    expect(closest('revok', ['init', 'revoke'])).toBe('revoke');
    expect(closest('broker', ['proxy', 'broker-api', 'broker-store'])).toBe('broker-api');
    expect(closest('frobnicate', ['proxy', 'demo', 'pki', 'audit'])).toBeUndefined();
    expect(didYouMean('--nats-ur', ['--nats-url', '--json'])).toBe('; did you mean "--nats-url"?');
    expect(didYouMean('xyz', ['--nats-url'])).toBe('');
  });
});
