import { InvalidInput } from './errors';
import { decodePathParam } from './path-param';

describe('decodePathParam', () => {
  it('decodes percent escapes', () => {
    expect(decodePathParam('app1.proxy1%2Ebroker', 'app id')).toBe('app1.proxy1.broker');
  });

  it('turns a malformed escape into InvalidInput naming the parameter (400, not 500)', () => {
    expect(() => decodePathParam('%ZZ', 'socket id')).toThrow(InvalidInput);
    expect(() => decodePathParam('%ZZ', 'socket id')).toThrow(/^socket id: not a valid percent-encoded path segment$/);
  });
});
