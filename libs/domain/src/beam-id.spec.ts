import { appIdOf, brokerIdOfProxy, canSignFor, fromSubjectToken, isValidBeamId, kindOf, parseBeamId, proxyIdOf, subjectToken } from './beam-id';
import { InvalidInput } from './errors';

describe('isValidBeamId / parseBeamId', () => {
  it.each(['broker', 'broker1.samply.de', 'proxy1.broker', 'app1.proxy1.broker', 'A-b.C-9', 'a'])('accepts %s', (id) => {
    expect(isValidBeamId(id)).toBe(true);
    expect(parseBeamId(id, 'from')).toBe(id);
  });

  it.each(['', '.', 'a.', '.a', 'a..b', 'a_b', 'a b', 'ä.broker', 'a/b', 'app1.proxy1.broker\n'])('rejects %j', (id) => {
    expect(isValidBeamId(id)).toBe(false);
    expect(() => parseBeamId(id, 'to[0]')).toThrow(InvalidInput);
    expect(() => parseBeamId(id, 'to[0]')).toThrow(/^to\[0\]: /);
  });

  it.each([null, undefined, 42, {}, [], ['a']])('rejects the non-string %j naming the field', (v) => {
    expect(isValidBeamId(v)).toBe(false);
    expect(() => parseBeamId(v, 'from')).toThrow(/^from: /);
  });

  it('rejects ids longer than 255 characters', () => {
    const long = Array.from({ length: 64 }, () => 'abc').join('.'); // 255 chars
    expect(long.length).toBe(255);
    expect(isValidBeamId(long)).toBe(true);
    expect(isValidBeamId(long + 'd')).toBe(false);
    expect(() => parseBeamId('x'.repeat(100_000), 'from')).toThrow(/^from: .*255/);
  });

  it('does not echo huge strings in messages', () => {
    expect(() => parseBeamId('_'.repeat(200), 'from')).toThrow(/^from: .{0,110}$/);
  });
});

describe('canSignFor', () => {
  it('lets a proxy sign for itself and its apps', () => {
    expect(canSignFor('proxy1.broker', 'proxy1.broker')).toBe(true);
    expect(canSignFor('proxy1.broker', 'app1.proxy1.broker')).toBe(true);
  });

  it('rejects a label-boundary impostor: ulm.broker cannot sign for neu-ulm.broker', () => {
    expect(canSignFor('ulm.broker', 'neu-ulm.broker')).toBe(false);
    expect(canSignFor('ulm.broker', 'app.neu-ulm.broker')).toBe(false);
  });

  it('rejects signing for a sibling proxy or a parent', () => {
    expect(canSignFor('proxy1.broker', 'app1.proxy2.broker')).toBe(false);
    expect(canSignFor('app1.proxy1.broker', 'proxy1.broker')).toBe(false);
  });

  it('compares case-sensitively', () => {
    expect(canSignFor('proxy1.broker', 'app1.Proxy1.broker')).toBe(false);
  });

  it('never lets an empty signer sign', () => {
    expect(canSignFor('', '')).toBe(false);
    expect(canSignFor('', 'a.')).toBe(false);
  });
});

describe('kindOf', () => {
  it('classifies ids under a single-label broker', () => {
    expect(kindOf('broker', 'broker')).toBe('broker');
    expect(kindOf('proxy1.broker', 'broker')).toBe('proxy');
    expect(kindOf('app1.proxy1.broker', 'broker')).toBe('app');
  });

  it('classifies ids under a dotted broker', () => {
    expect(kindOf('p.b1.samply.de', 'b1.samply.de')).toBe('proxy');
    expect(kindOf('a.p.b1.samply.de', 'b1.samply.de')).toBe('app');
  });

  it('returns undefined for ids not under the broker', () => {
    expect(kindOf('proxy1.other', 'broker')).toBeUndefined();
    expect(kindOf('proxy1.xbroker', 'broker')).toBeUndefined();
    expect(kindOf('x.app1.proxy1.broker', 'broker')).toBeUndefined();
    expect(kindOf('bad id', 'broker')).toBeUndefined();
  });
});

describe('proxyIdOf / appIdOf / brokerIdOfProxy', () => {
  it('maps app and proxy ids to their proxy', () => {
    expect(proxyIdOf('app1.proxy1.broker', 'broker')).toBe('proxy1.broker');
    expect(proxyIdOf('proxy1.broker', 'broker')).toBe('proxy1.broker');
    expect(proxyIdOf('a.p.b1.samply.de', 'b1.samply.de')).toBe('p.b1.samply.de');
  });

  it('throws InvalidInput for the broker itself or foreign ids', () => {
    expect(() => proxyIdOf('broker', 'broker')).toThrow(InvalidInput);
    expect(() => proxyIdOf('app1.proxy1.other', 'broker')).toThrow(InvalidInput);
  });

  it('builds app ids and rejects bad labels', () => {
    expect(appIdOf('app1', 'proxy1.broker')).toBe('app1.proxy1.broker');
    expect(() => appIdOf('a.b', 'proxy1.broker')).toThrow(/^label: /);
    expect(() => appIdOf('', 'proxy1.broker')).toThrow(InvalidInput);
  });

  it('derives the broker of a proxy', () => {
    expect(brokerIdOfProxy('proxy1.broker')).toBe('broker');
    expect(brokerIdOfProxy('p.b1.samply.de')).toBe('b1.samply.de');
    expect(() => brokerIdOfProxy('broker')).toThrow(InvalidInput);
  });
});

describe('subject tokens', () => {
  it('encodes dots as underscores and round-trips', () => {
    expect(subjectToken('app1.proxy1.broker')).toBe('app1_proxy1_broker');
    expect(fromSubjectToken('app1_proxy1_broker')).toBe('app1.proxy1.broker');
    for (const id of ['broker', 'a-b.c-d.e', 'p.b1.samply.de']) expect(fromSubjectToken(subjectToken(id))).toBe(id);
  });
});
