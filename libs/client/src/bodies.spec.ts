import { decodeBody, decodeResult, decodeTask, encodeBody } from './bodies';
import { BeamBodyError } from './errors';
import type { TaskRequest } from './types';

describe("bodies: 'string' (the default)", () => {
  it('sends a string unchanged and any other value as its JSON text', () => {
    expect(encodeBody('The answer is 42', 'string')).toBe('The answer is 42');
    expect(encodeBody('{"looks":"like json"}', 'string')).toBe('{"looks":"like json"}');
    expect(encodeBody({ question: 6 * 9 }, 'string')).toBe('{"question":54}');
    expect(encodeBody(42, 'string')).toBe('42');
  });

  it('returns a received body as the string that arrived', () => {
    expect(decodeBody('{"a":1}', 'string', 'x')).toBe('{"a":1}');
    expect(decodeBody('not json', 'string', 'x')).toBe('not json');
  });
});

describe("bodies: 'json'", () => {
  it('sends every body as JSON, strings too, so each arrives as the value that was sent', () => {
    for (const value of ['42', 'plain', { nested: [1, 'two', null] }, 0, false, null]) {
      const wire = encodeBody(value, 'json') as string;
      expect(typeof wire).toBe('string');
      expect(decodeBody(wire, 'json', 'x')).toEqual(value);
    }
    expect(encodeBody('42', 'json')).toBe('"42"');
  });

  it('fails a body that is not JSON with a BeamBodyError that keeps the raw body', () => {
    let err: unknown;
    try {
      decodeBody('<encrypted>', 'json', 'task 1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BeamBodyError);
    expect((err as BeamBodyError).code).toBe('invalid_body');
    expect((err as BeamBodyError).rawBody).toBe('<encrypted>');
    expect((err as BeamBodyError).message).toContain('task 1');
  });
});

describe('messages', () => {
  it('leaves a claimed result without a body, and refuses bodies that cannot travel', () => {
    expect(encodeBody(undefined, 'json')).toBeUndefined();
    expect(decodeResult({ from: 'a', to: ['b'], task: 't', status: 'claimed', metadata: null }, 'json')).toEqual({
      from: 'a',
      to: ['b'],
      task: 't',
      status: 'claimed',
      metadata: null,
    });
    expect(() => encodeBody(() => 1, 'string')).toThrow(TypeError);
  });

  it('decodes only the body of a task, keeping every other field as it arrived', () => {
    const task: TaskRequest<unknown> = { id: 'i', from: 'f', to: ['t'], body: '{"n":1}', ttl: '57s', failure_strategy: 'discard', metadata: '{"m":2}' };
    expect(decodeTask<{ n: number }>(task, 'json')).toEqual({ ...task, body: { n: 1 } });
  });
});
