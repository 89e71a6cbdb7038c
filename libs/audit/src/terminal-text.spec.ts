import { escapeControls, jsonForTerminal } from './terminal-text';

const ESC = '\u001b';

describe('escapeControls', () => {
  it('turns the line-erasing, text-hiding kid of the attack into plain visible text', () => {
    const kid = `deadbeef\r${ESC}[2K2025-06-01T12:00:00.000Z  #7  TaskCreated  task=fake${ESC}[8m`;
    const shown = escapeControls(kid);
    expect(shown).toBe('deadbeef\\r\\x1b[2K2025-06-01T12:00:00.000Z  #7  TaskCreated  task=fake\\x1b[8m');
    expect(shown).not.toMatch(/[\r\u001b]/);
  });

  it('escapes C0, DEL and C1 (an 8-bit CSI, NEL) byte by byte', () => {
    expect(escapeControls('a\u0000b\tc\nd\u0007e\u007ff\u009bg\u0085h')).toBe('a\\x00b\\tc\\nd\\x07e\\x7ff\\x9bg\\x85h');
  });

  it('escapes bidi overrides and isolates, line and paragraph separators, zero-width and BOM characters', () => {
    const unsafe = [
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\u2028',
      '\u2029',
      '\u200b',
      '\u200e',
      '\u200f',
      '\u061c',
      '\ufeff',
    ];
    for (const c of unsafe) expect(escapeControls(`x${c}y`)).toBe(`x\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}y`);
    expect(escapeControls('\ud800')).toBe('\\ud800'); // a lone surrogate
  });

  it('leaves ordinary text alone, non-ASCII included', () => {
    for (const s of ['app1.proxy1.broker → app2.proxy2.broker', 'Zürich São Paulo 東京', 'emoji 🙂 (a surrogate pair)', 'C:\\path\\x1b', ''])
      expect(escapeControls(s)).toBe(s);
  });
});

describe('jsonForTerminal', () => {
  it('escapes what JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { kid: `a\r${ESC}[2Kb\u007f\u009b\u202e\u2028c 東京 🙂`, n: 1 };
    const text = jsonForTerminal(value);
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/);
    expect(text).toContain('\\u202e');
    expect(JSON.parse(text)).toEqual(value);
  });
});
