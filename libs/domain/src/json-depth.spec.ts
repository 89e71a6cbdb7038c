import { proxyIdOf } from './beam-id';
import { jsonTextTooDeep, jsonValueTooDeep, MAX_JSON_DEPTH } from './json-depth';
import { parseResultInput, parseSealedTask, parseTaskInput } from './messages';

const nested = (depth: number): string => '['.repeat(depth) + '1' + ']'.repeat(depth);

describe('JSON nesting limits', () => {
  it('measures text nesting, ignoring brackets inside strings and escaped quotes', () => {
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(jsonTextTooDeep(nested(MAX_JSON_DEPTH + 1))).toBe(true);
    expect(jsonTextTooDeep(JSON.stringify({ s: '['.repeat(1_000) + '\\"[[[' }))).toBe(false);
    expect(jsonTextTooDeep('{"a":'.repeat(200) + '1' + '}'.repeat(200))).toBe(true);
    expect(jsonTextTooDeep('[[[', 2)).toBe(true);
  });

  it('measures parsed values iteratively, even far beyond the stack limit', () => {
    expect(jsonValueTooDeep(JSON.parse(nested(MAX_JSON_DEPTH)))).toBe(false);
    expect(jsonValueTooDeep(JSON.parse(nested(MAX_JSON_DEPTH + 1)))).toBe(true);
    expect(jsonValueTooDeep(JSON.parse(nested(100_000)))).toBe(true);
    expect(jsonValueTooDeep('x')).toBe(false);
    expect(jsonValueTooDeep(null)).toBe(false);
    expect(jsonValueTooDeep({})).toBe(false);
  });

  it('refuses messages whose metadata would make JSON.stringify overflow, naming the field', () => {
    const deep = JSON.parse(nested(10_000));
    const task = { id: '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8', from: 'a.p.b', to: ['c.p.b'], body: '', ttl: '60s', metadata: deep };
    expect(() => parseTaskInput(task, { maxTtlMs: 3_600_000 })).toThrow(/^metadata: nested deeper/);
    expect(() => parseResultInput({ from: 'a.p.b', to: ['c.p.b'], task: task.id, status: 'claimed', metadata: deep })).toThrow(/^metadata/);
    expect(() =>
      parseSealedTask(
        { v: 2, ...task, created: 1, encrypted: 'AAAA', encryption_keys: ['AAAA'], key_commitment: 'AAAA', digest: 'd' },
        { maxTtlMs: 3_600_000 },
      ),
    ).toThrow(/^metadata/);
    expect(parseTaskInput({ ...task, metadata: JSON.parse(nested(MAX_JSON_DEPTH - 1)) }, { maxTtlMs: 3_600_000 }).metadata).toBeDefined();
  });
});

describe('proxyIdOf', () => {
  it('names the field the caller passes (recipients are `to[i]`, not `id`)', () => {
    expect(() => proxyIdOf('app2', 'broker', 'to[0]')).toThrow(/^to\[0\]: "app2" is not an app or proxy id/);
    expect(() => proxyIdOf('app2', 'broker')).toThrow(/^id: /);
  });
});
