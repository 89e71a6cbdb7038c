import { Progress } from './progress';

function sink(isTTY: boolean): { isTTY: boolean; text: string; write(t: string): void } {
  const s = { isTTY, text: '', write: (t: string) => void (s.text += t) };
  return s;
}

describe('Progress', () => {
  afterEach(() => jest.useRealTimers());

  it('stays quiet for a short run, then writes a line per interval when stderr is not a terminal', () => {
    jest.useFakeTimers({ now: 0 });
    const out = sink(false);
    const p = new Progress('audit verify', out, 10_000);
    p.tick(500);
    expect(out.text).toBe('');
    jest.setSystemTime(10_000);
    p.tick(18_234);
    expect(out.text).toBe('audit verify: 18,734 events read in 10 s\n');
    jest.setSystemTime(12_000);
    p.tick();
    expect(out.text.split('\n')).toHaveLength(2); // no new line before the next interval
    p.done();
  });

  it('redraws one line in place on a terminal and clears it when done', () => {
    jest.useFakeTimers({ now: 0 });
    const out = sink(true);
    const p = new Progress('audit replay', out);
    p.tick();
    expect(out.text).toBe('');
    jest.setSystemTime(1_000);
    p.tick();
    expect(out.text).toBe('\raudit replay: 2 events read in 1 s\x1b[K');
    p.done();
    expect(out.text.endsWith('\r\x1b[K')).toBe(true);
  });
});
