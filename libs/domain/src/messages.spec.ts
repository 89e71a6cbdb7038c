import { DomainError, InvalidInput } from './errors';
import { DEFAULT_MAX_TTL_MS, parseResultInput, parseSealedResult, parseSealedTask, parseTaskInput, ttlMsOf, WORK_STATUSES } from './messages';

const limits = { maxTtlMs: DEFAULT_MAX_TTL_MS };
const ID = '70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6a';

function task(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: ID,
    from: 'app1.proxy1.broker',
    to: ['app1.proxy2.broker'],
    body: 'What is the answer?',
    failure_strategy: { retry: { backoff_millisecs: 1000, max_tries: 5 } },
    ttl: '10s',
    metadata: 'The broker can read and use this field e.g., to apply filters on behalf of an app',
    ...overrides,
  };
}
function result(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { from: 'app1.proxy2.broker', to: ['app1.proxy1.broker'], task: ID, status: 'succeeded', body: '42', metadata: null, ...overrides };
}
function sealedTask(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { body: _b, ...rest } = task();
  return {
    v: 2,
    ...rest,
    created: 1_700_000_000_000,
    encrypted: 'AAECAwQ=',
    encryption_keys: ['a2V5MQ=='],
    key_commitment: 'Y29tbWl0',
    digest: 'sha256-abc',
    ...overrides,
  };
}
function sealedResult(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const { body: _b, ...rest } = result();
  return { v: 2, ...rest, created: 1_700_000_000_000, encrypted: 'AAECAwQ=', encryption_keys: ['a2V5MQ=='], key_commitment: 'Y29tbWl0', ...overrides };
}
function expectInvalid(fn: () => unknown, field: string): void {
  expect(fn).toThrow(InvalidInput);
  expect(fn).toThrow(new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: `));
}

describe('parseTaskInput', () => {
  it("accepts Samply.Beam's own example task verbatim", () => {
    expect(parseTaskInput(task(), limits)).toEqual(task());
  });

  it('lowercases the id, defaults failure_strategy to discard and metadata to null', () => {
    const { failure_strategy: _f, metadata: _m, ...rest } = task({ id: ID.toUpperCase() });
    expect(parseTaskInput(rest, limits)).toEqual({ ...task(), failure_strategy: 'discard', metadata: null });
  });

  it('accepts an empty body, "discard", ProxyIds as recipients and any JSON metadata', () => {
    const t = parseTaskInput(
      task({ body: '', failure_strategy: 'discard', to: ['proxy2.broker', 'app2.proxy1.broker'], metadata: { a: [1, { b: null }] } }),
      limits,
    );
    expect(t.body).toBe('');
    expect(t.failure_strategy).toBe('discard');
    expect(t.to).toEqual(['proxy2.broker', 'app2.proxy1.broker']);
    expect(t.metadata).toEqual({ a: [1, { b: null }] });
  });

  it('normalises a JSON-number ttl to its string form', () => {
    expect(parseTaskInput(task({ ttl: 60 }), limits).ttl).toBe('60');
    expect(ttlMsOf(parseTaskInput(task({ ttl: 60 }), limits))).toBe(60_000);
  });

  it('ignores and drops unknown extra fields', () => {
    const t = parseTaskInput(task({ extra: 1, __proto__: { polluted: true } }), limits);
    expect(Object.keys(t).sort()).toEqual(['body', 'failure_strategy', 'from', 'id', 'metadata', 'to', 'ttl']);
  });

  it.each([
    [{ id: 'nope' }, 'id'],
    [{ id: undefined }, 'id'],
    [{ from: 'app1..broker' }, 'from'],
    [{ from: undefined }, 'from'],
    [{ to: [] }, 'to'],
    [{ to: 'app1.proxy2.broker' }, 'to'],
    [{ to: ['ok.broker', 7] }, 'to[1]'],
    [{ to: ['a.proxy2.broker', 'a.proxy2.broker'] }, 'to'],
    [{ body: undefined }, 'body'],
    [{ body: null }, 'body'],
    [{ body: 42 }, 'body'],
    [{ body: { x: 1 } }, 'body'],
    [{ failure_strategy: 'retry' }, 'failure_strategy'],
    [{ failure_strategy: null }, 'failure_strategy'],
    [{ failure_strategy: { retry: { backoff_millisecs: -1, max_tries: 1 } } }, 'failure_strategy.retry.backoff_millisecs'],
    [{ failure_strategy: { retry: { backoff_millisecs: 1, max_tries: 1.5 } } }, 'failure_strategy.retry.max_tries'],
    [{ failure_strategy: { retry: { backoff_millisecs: 1 } } }, 'failure_strategy.retry.max_tries'],
    [{ failure_strategy: { retry: [] } }, 'failure_strategy.retry'],
    [{ failure_strategy: { retry: { backoff_millisecs: 1, max_tries: 1 }, discard: true } }, 'failure_strategy'],
    [{ ttl: undefined }, 'ttl'],
    [{ ttl: '0s' }, 'ttl'],
    [{ ttl: 0 }, 'ttl'],
    [{ ttl: '-5s' }, 'ttl'],
    [{ ttl: '8d' }, 'ttl'],
    [{ ttl: '10 parsecs' }, 'ttl'],
    [{ ttl: null }, 'ttl'],
    [{ ttl: true }, 'ttl'],
  ])('rejects %j naming the field %s', (overrides, field) => {
    expectInvalid(() => parseTaskInput(task(overrides), limits), field);
  });

  it('says "ttl: must be > 0" for a zero ttl', () => {
    expect(() => parseTaskInput(task({ ttl: '0' }), limits)).toThrow('ttl: must be > 0');
  });

  it('honours a configured maximum ttl', () => {
    expect(parseTaskInput(task({ ttl: '1m' }), { maxTtlMs: 60_000 }).ttl).toBe('1m');
    expectInvalid(() => parseTaskInput(task({ ttl: '61s' }), { maxTtlMs: 60_000 }), 'ttl');
  });

  it.each([null, undefined, 42, 'str', [], [task()], true])('rejects the non-object %j as body', (v) => {
    expect(() => parseTaskInput(v, limits)).toThrow('body: expected a JSON object');
  });
});

describe('parseResultInput', () => {
  it('accepts a result and ignores the id field Beam sends', () => {
    const r = parseResultInput({ id: ID, ...result() });
    expect(r).toEqual(result());
    expect('id' in r).toBe(false);
  });

  it('accepts a claimed result without body and leaves body undefined', () => {
    const { body: _b, ...rest } = result({ status: 'claimed' });
    const r = parseResultInput(rest);
    expect(r.body).toBeUndefined();
    expect('body' in r).toBe(false);
    expect(parseResultInput({ ...rest, body: null }).body).toBeUndefined();
    expect(parseResultInput({ ...rest, body: 'working' }).body).toBe('working');
  });

  it.each(WORK_STATUSES.filter((s) => s !== 'claimed'))('requires a body for status %s', (status) => {
    const { body: _b, ...rest } = result({ status });
    expectInvalid(() => parseResultInput(rest), 'body');
    expect(parseResultInput({ ...rest, body: '' }).body).toBe('');
  });

  it('defaults metadata to null', () => {
    const { metadata: _m, ...rest } = result();
    expect(parseResultInput(rest).metadata).toBeNull();
  });

  it.each([
    [{ task: 'x' }, 'task'],
    [{ status: 'done' }, 'status'],
    [{ status: undefined }, 'status'],
    [{ status: 'Succeeded' }, 'status'],
    [{ to: [] }, 'to'],
    [{ from: 5 }, 'from'],
    [{ body: 1 }, 'body'],
    [{ status: 'claimed', body: 3 }, 'body'],
  ])('rejects %j naming the field %s', (overrides, field) => {
    expectInvalid(() => parseResultInput(result(overrides)), field);
  });
});

describe('parseSealedTask', () => {
  it('accepts a sealed task and drops the plaintext body field if present', () => {
    const t = parseSealedTask({ ...sealedTask(), body: 'leak?' }, limits);
    expect(t).toEqual(sealedTask());
    expect('body' in t).toBe(false);
  });

  it('accepts unpadded and url-safe base64', () => {
    expect(parseSealedTask(sealedTask({ encrypted: 'AAECAw', encryption_keys: ['a2V5-_'] }), limits).encrypted).toBe('AAECAw');
  });

  it.each([
    [{ encrypted: undefined }, 'encrypted'],
    [{ encrypted: '' }, 'encrypted'],
    [{ encrypted: 'not base64!' }, 'encrypted'],
    [{ encrypted: 'AAECA' }, 'encrypted'],
    [{ encryption_keys: [] }, 'encryption_keys'],
    [{ encryption_keys: 'a2V5MQ==' }, 'encryption_keys'],
    [{ encryption_keys: ['a2V5MQ==', 'a2V5Mg=='] }, 'encryption_keys'],
    [{ encryption_keys: [5] }, 'encryption_keys[0]'],
    [{ digest: '' }, 'digest'],
    [{ digest: undefined }, 'digest'],
    [{ digest: 'x'.repeat(129) }, 'digest'],
    [{ ttl: '0ms' }, 'ttl'],
    [{ id: null }, 'id'],
    [{ created: undefined }, 'created'],
    [{ created: -1 }, 'created'],
    [{ created: '1700000000000' }, 'created'],
    [{ key_commitment: undefined }, 'key_commitment'],
    [{ key_commitment: 'not base64!' }, 'key_commitment'],
  ])('rejects %j naming the field %s', (overrides, field) => {
    expectInvalid(() => parseSealedTask(sealedTask(overrides), limits), field);
  });

  it.each([undefined, 1, '2', 3])('refuses a message of format version %j (unsupported_format)', (v) => {
    expect(() => parseSealedTask(sealedTask({ v }), limits)).toThrow(expect.objectContaining({ code: 'unsupported_format' }));
    expect(() => parseSealedResult(sealedResult({ v }))).toThrow(expect.objectContaining({ code: 'unsupported_format' }));
  });

  it('accepts a 128-character digest', () => {
    expect(parseSealedTask(sealedTask({ digest: 'x'.repeat(128) }), limits).digest).toHaveLength(128);
  });
});

describe('parseSealedResult', () => {
  it('accepts a sealed result', () => {
    expect(parseSealedResult(sealedResult())).toEqual(sealedResult());
  });

  it('accepts a claimed result without encrypted/encryption_keys/key_commitment', () => {
    const { encrypted: _e, encryption_keys: _k, key_commitment: _c, ...rest } = sealedResult({ status: 'claimed' });
    const r = parseSealedResult(rest);
    expect('encrypted' in r || 'encryption_keys' in r).toBe(false);
  });

  it('requires encrypted/encryption_keys for non-claimed results', () => {
    const { encrypted: _e, encryption_keys: _k, key_commitment: _c, ...rest } = sealedResult({ status: 'tempfailed' });
    expectInvalid(() => parseSealedResult(rest), 'encrypted');
  });

  it('rejects encrypted without encryption_keys and vice versa', () => {
    expectInvalid(() => parseSealedResult(sealedResult({ encryption_keys: undefined, status: 'claimed' })), 'encrypted');
    expectInvalid(() => parseSealedResult(sealedResult({ encrypted: undefined, status: 'claimed' })), 'encrypted');
    expectInvalid(() => parseSealedResult(sealedResult({ key_commitment: undefined })), 'encrypted');
    expectInvalid(() => parseSealedResult(sealedResult({ created: undefined })), 'created');
  });

  it('rejects encryption_keys not aligned with to', () => {
    expectInvalid(() => parseSealedResult(sealedResult({ encryption_keys: ['a2V5MQ==', 'a2V5MQ=='] })), 'encryption_keys');
  });
});

describe('message parsers under fuzzing', () => {
  const parsers: Array<(v: unknown) => unknown> = [(v) => parseTaskInput(v, limits), parseResultInput, (v) => parseSealedTask(v, limits), parseSealedResult];

  function junk(seed: number, depth = 0): unknown {
    const r = (seed * 9301 + 49297) % 233280;
    const pick = r % 12;
    if (depth > 3) return r;
    switch (pick) {
      case 0:
        return null;
      case 1:
        return r / 7 - 1000;
      case 2:
        return 'x'.repeat(r % 50);
      case 3:
        return [junk(r + 1, depth + 1), junk(r + 2, depth + 1)];
      case 4:
        return { id: junk(r + 3, depth + 1), to: junk(r + 4, depth + 1), __proto__: junk(r + 5, depth + 1) };
      case 5:
        return true;
      case 6:
        return NaN;
      case 7:
        return ID;
      case 8:
        return ['app1.proxy1.broker'];
      case 9:
        return 'app1.proxy1.broker';
      case 10:
        return { retry: junk(r + 6, depth + 1) };
      default:
        return '10s';
    }
  }

  function fuzzObject(seed: number): unknown {
    const keys = [
      'id',
      'task',
      'from',
      'to',
      'body',
      'ttl',
      'status',
      'failure_strategy',
      'metadata',
      'encrypted',
      'encryption_keys',
      'digest',
      '__proto__',
      'constructor',
    ];
    const obj: Record<string, unknown> = {};
    keys.forEach((k, i) => {
      if ((seed >> i) & 1) obj[k] = junk(seed * 31 + i);
    });
    return JSON.parse(JSON.stringify(obj));
  }

  it('only ever throws DomainErrors on garbage', () => {
    const inputs: unknown[] = [
      null,
      undefined,
      0,
      -1,
      NaN,
      '',
      'x'.repeat(1_000_000),
      [],
      [[]],
      {},
      Object.create(null),
      JSON.parse('{"__proto__":{"id":"70c0aac0-dc0b-4d3f-8a3e-1c3d6e1c2f6a"}}'),
      { to: new Array(10_000).fill('a.b') },
      {
        get id() {
          throw new Error('boom');
        },
      },
    ];
    for (let s = 0; s < 2000; s++) inputs.push(fuzzObject(s), junk(s));
    for (const parse of parsers) {
      for (const input of inputs) {
        try {
          parse(input);
        } catch (e) {
          expect(e).toBeInstanceOf(DomainError);
        }
      }
    }
  });

  it('does not read fields through the prototype chain', () => {
    const proto = { ...task() };
    const obj = Object.create(proto) as Record<string, unknown>;
    expect(() => parseTaskInput(obj, limits)).toThrow(/^id: /);
  });

  it('handles a 10 MB body', () => {
    const body = 'a'.repeat(10 * 1024 * 1024);
    expect(parseTaskInput(task({ body }), limits).body).toHaveLength(body.length);
    const enc = 'QUJD'.repeat(4 * 1024 * 1024);
    expect(parseSealedTask(sealedTask({ encrypted: enc }), limits).encrypted).toHaveLength(enc.length);
  });
});

describe('recipient limits', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => `app${i}.proxy2.broker`);
  const tooMany = (fn: () => unknown, n: number, max: number) => {
    expect(fn).toThrow(InvalidInput);
    expect(fn).toThrow(`to: at most ${max} recipients, got ${n}`);
    try {
      fn();
    } catch (err) {
      expect((err as DomainError).code).toBe('too_many_recipients');
    }
  };

  it('takes up to 1,000 recipients by default and refuses the 1,001st on every message kind', () => {
    expect(parseTaskInput(task({ to: many(1_000) }), limits).to).toHaveLength(1_000);
    tooMany(() => parseTaskInput(task({ to: many(1_001) }), limits), 1_001, 1_000);
    tooMany(() => parseSealedTask(sealedTask({ to: many(1_001) }), limits), 1_001, 1_000);
    tooMany(() => parseResultInput(result({ to: many(1_001) })), 1_001, 1_000);
    tooMany(() => parseSealedResult(sealedResult({ to: many(1_001) })), 1_001, 1_000);
  });

  it('applies a configured limit, before looking at any entry', () => {
    tooMany(() => parseTaskInput(task({ to: many(3) }), { ...limits, maxRecipients: 2 }), 3, 2);
    // 10,000 entries that are not even BeamIds: the count alone decides.
    tooMany(() => parseSealedTask(sealedTask({ to: Array(10_000).fill(null) }), limits), 10_000, 1_000);
    tooMany(() => parseSealedResult(sealedResult({ to: many(5) }), { maxRecipients: 4 }), 5, 4);
  });
});
