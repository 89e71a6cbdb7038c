import { checkMonitoringAuth } from './basic-auth';

const KEY = 'SuperSecretKey';
const basic = (s: string): string => `Basic ${Buffer.from(s).toString('base64')}`;

describe('monitoring Basic auth', () => {
  it('accepts an empty user with the key as password', () => {
    expect(checkMonitoringAuth(basic(`:${KEY}`), KEY)).toBe('ok');
    expect(checkMonitoringAuth(basic(`:${KEY}`).replace('Basic', 'basic'), KEY)).toBe('ok');
    expect(checkMonitoringAuth(basic(':a:b'), 'a:b')).toBe('ok');
  });

  it('tells missing, malformed and wrong apart', () => {
    expect(checkMonitoringAuth(undefined, KEY)).toBe('missing');
    expect(checkMonitoringAuth('', KEY)).toBe('missing');
    expect(checkMonitoringAuth(`Bearer ${KEY}`, KEY)).toBe('malformed');
    expect(checkMonitoringAuth('Basic !!!', KEY)).toBe('malformed');
    expect(checkMonitoringAuth(basic(KEY), KEY)).toBe('malformed'); // no colon
    expect(checkMonitoringAuth(basic(':wrong'), KEY)).toBe('wrong');
    expect(checkMonitoringAuth(basic(`admin:${KEY}`), KEY)).toBe('wrong');
    expect(checkMonitoringAuth(basic(`:${KEY}x`), KEY)).toBe('wrong');
    expect(checkMonitoringAuth(basic(':'), KEY)).toBe('wrong');
  });
});
