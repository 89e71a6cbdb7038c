import { logFormatText, prettyLine, resolveLogFormat } from './log-format';

describe('log format', () => {
  it('is JSON unless stdout is a terminal, and LOG_FORMAT overrides', () => {
    expect(resolveLogFormat(undefined, false)).toBe('json');
    expect(resolveLogFormat(undefined, true)).toBe('pretty');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
    expect(logFormatText('json')).toBe('json');
    expect(() => logFormatText('text')).toThrow('expected "json" or "pretty", got "text"');
  });

  it('prints a pino line as one readable line, with the fields it has no place for as key=value', () => {
    const line = JSON.stringify({
      level: 'warn',
      time: '2026-12-01T05:00:01.234Z',
      service: 'proxy',
      pid: 1,
      context: 'HTTP',
      reqId: 'r1',
      status: 401,
      msg: 'refused',
    });
    expect(prettyLine(line)).toBe('05:00:01.234 WARN  [HTTP] refused reqId=r1 status=401\n');
    expect(prettyLine('not json')).toBe('not json\n');
  });
});
