import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beamlineVersion, VersionWatch } from './version';

describe('beamlineVersion', () => {
  it("is package.json's version", () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(beamlineVersion()).toBe(pkg.version);
  });
});

describe('VersionWatch', () => {
  it('warns once per peer and version when a peer runs another version, and never for the same one', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const watch = new VersionWatch('1.0.0');
      expect(watch.check('broker', '1.0.0')).toBe(false);
      expect(watch.check('broker', undefined)).toBe(false);
      expect(watch.check('broker', '1.1.0')).toBe(true);
      expect(watch.check('broker', ['1.1.0'])).toBe(true);
      expect(watch.check('proxy proxy1.broker', '0.9.0')).toBe(true);
      expect(warn).toHaveBeenCalledTimes(2);
      expect(warn.mock.calls[0]).toEqual([{ peer: 'broker', peerVersion: '1.1.0', version: '1.0.0' }, 'broker runs Beamline 1.1.0, this 1.0.0']);
    } finally {
      warn.mockRestore();
    }
  });
});
