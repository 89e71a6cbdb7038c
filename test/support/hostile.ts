/**
 * Building blocks for the hostile-input fuzz test: how a request is described, sent (fetch, or a raw socket
 * for what fetch cannot express) and judged, plus fast-check generators of hostile values.
 */
import fc from 'fast-check';
import { connect } from 'node:net';
import { parseDuration } from '@beamline/domain';

export interface HostileRequest {
  /** Which server: 'proxy1' | 'proxy2' | 'broker'. */
  target: string;
  method: string;
  /** Path and query exactly as sent. */
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  /** Sign with this proxy's key (broker only); the Authorization header is then computed at send time. */
  signAs?: string;
  /** What the generator meant to exercise (shown on failures). */
  label: string;
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/** Why `answer` to `req` breaks the contract of docs/api.md "Errors and limits", or undefined when it is fine. */
export function judge(req: { method: string }, answer: Answer): string | undefined {
  if (answer.status >= 500) return `status ${answer.status} (no 5xx allowed; 502/504 mean the broker failed on a healthy network)`;
  if (answer.status < 400) return undefined;
  if (req.method === 'HEAD') return answer.text === '' ? undefined : 'HEAD answered with a body';
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    return `status ${answer.status} with a non-JSON body ${JSON.stringify(answer.text.slice(0, 120))}`;
  }
  if (!/^application\/json\b/.test(answer.contentType)) return `status ${answer.status} with Content-Type ${JSON.stringify(answer.contentType)}`;
  // docs/api.md: 424 answers with the JSON array of the recipients' ProxyIds (Samply.Beam's shape), not an error object.
  if (answer.status === 424) return Array.isArray(json) && json.every((x) => typeof x === 'string') ? undefined : '424 without a JSON array of ProxyIds';
  const o = json as { error?: unknown; message?: unknown };
  if (
    typeof json !== 'object' ||
    json === null ||
    Array.isArray(json) ||
    typeof o.error !== 'string' ||
    typeof o.message !== 'string' ||
    o.error === '' ||
    o.message === ''
  ) {
    return `status ${answer.status} without {"error","message"} strings: ${answer.text.slice(0, 120)}`;
  }
  return undefined;
}

/**
 * One request over a fresh TCP connection, bytes as given (what fetch refuses to send). The connection is not
 * half-closed (real clients do not do that); it is dropped once a complete response arrived, or at the timeout.
 */
export function rawRequest(port: number, bytes: string | Buffer, timeoutMs = 5_000): Promise<Answer & { raw: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    const parse = (): Answer & { raw: string; complete: boolean } => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const end = raw.indexOf('\r\n\r\n');
      const head = end < 0 ? raw : raw.slice(0, end);
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type:\s*([^\r\n]*)/i.exec(head)?.[1] ?? '';
      const body = end < 0 ? '' : raw.slice(end + 4);
      const chunked = /\r\ntransfer-encoding:\s*chunked/i.test(head);
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
      const complete =
        end >= 0 &&
        (status === 100 ? false : chunked ? body.endsWith('0\r\n\r\n') : length !== undefined ? Buffer.byteLength(body, 'latin1') >= Number(length) : false);
      return { status, contentType, text: Buffer.from(chunked ? dechunk(body) : body, 'latin1').toString('utf8'), raw, complete };
    };
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const { complete: _complete, ...answer } = parse();
      resolve(answer);
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (parse().complete) finish();
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
  });
}

function dechunk(s: string): string {
  let out = '';
  let rest = s;
  for (;;) {
    const nl = rest.indexOf('\r\n');
    if (nl < 0) return out;
    const size = parseInt(rest.slice(0, nl), 16);
    if (!(size > 0)) return out;
    out += rest.slice(nl + 2, nl + 2 + size);
    rest = rest.slice(nl + 4 + size);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------

/** JSON text that JSON.stringify cannot produce: placed as `RAW(...)` strings and unquoted by `toJsonText`. */
const RAW_NUMBERS = ['1e309', '-1e309', '-0', '1e-400', '123456789012345678901234567890', '0.0000000000000000000001', '1E+2', '9007199254740993'];
const RAW = (s: string): string => `@@RAW(${s})@@`;

/** Serialises a generated value, turning `RAW(...)` markers into bare JSON tokens. */
export function toJsonText(v: unknown): string {
  return JSON.stringify(v).replace(/"@@RAW\((.*?)\)@@"/g, (_m, inner: string) => JSON.parse(`"${inner}"`) as string);
}

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 });

/** A header value fetch will send (printable ASCII, no surrounding blanks). */
export const headerValue = fc.oneof(
  printable.map((s) => s.trim()),
  fc.constantFrom(
    '',
    'null',
    'undefined',
    '-1',
    '0',
    '99999999999999999999',
    'NaN',
    '1e309',
    '\u00e9'.normalize('NFD').replace(/[^\x20-\x7e]/g, '?'),
    'x'.repeat(8_000),
  ),
);

/** Strings that look almost right, are empty, huge, or hold path and control tricks. */
export const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '\u0000',
      '\ud800',
      '..',
      '../..',
      '%00',
      '%',
      '%zz',
      '%2e%2e%2f',
      '/',
      '\\',
      '\n',
      '\r\n',
      'null',
      'undefined',
      'true',
      'NaN',
      'Infinity',
      '-Infinity',
      '-1',
      '0',
      '1e309',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
      '5x',
      '-1s',
      '99999999999d',
      '1.5.5s',
      '1e3s',
      '0x10',
      '1_000',
      '١٢',
      '10S',
      '5 s',
      ' 5s',
      '5s ',
      '+5s',
      '.5s',
      '5.s',
      '0s',
      '0',
      '7d',
      '8d',
      '604801',
      '168h',
      '0.0001ms',
      '9'.repeat(64) + 's',
      '9'.repeat(65),
      'discard',
      'claimed',
      'Claimed',
      'succeeded ',
      'todo',
      'TODO',
      '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8',
      '70C0AA90-BFCF-4312-A6AF-42CBD57DC0B8',
      '70c0aa90bfcf4312a6af42cbd57dc0b8',
      '{70c0aa90-bfcf-4312-a6af-42cbd57dc0b8}',
      '70c0aa90-bfcf-4312-a6af-42cbd57dc0b',
      '00000000-0000-0000-0000-000000000000',
      'app1.proxy1.broker',
      'app2.proxy2.broker',
      'app1.proxy9.broker',
      'proxy2.broker',
      'broker',
      'app1..broker',
      '.app1.proxy1.broker',
      'app1.proxy1.broker.',
      'a.b.c.d.broker',
      'app1.proxy1.other',
      'app_1.proxy1.broker',
      'APP1.PROXY1.BROKER',
      'neu-ulm.broker',
      'a'.repeat(256),
      'x'.repeat(10_000),
      'é'.repeat(2_000),
      '\u202e\u0000\uffff',
    ),
  },
);

/** Numbers and raw numeric tokens that break naive validation. */
export const nastyNumber = fc.oneof(
  fc.constantFrom(-1, 0, 1, -0.5, 0.5, 2 ** 31, 2 ** 53, 2 ** 53 + 2, -(2 ** 53), Number.MAX_VALUE, Number.MIN_VALUE, 1e21),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...RAW_NUMBERS).map(RAW),
);

/** JSON text of arrays/objects nested `depth` levels (built as text: JSON.stringify itself overflows on it). */
export function deepJson(depth: number, kind: 'array' | 'object' = 'array'): string {
  return kind === 'array' ? '['.repeat(depth) + '1' + ']'.repeat(depth) : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

/** Deeply nested values (deep nesting breaks recursive code after parsing), as RAW markers. */
export const deepValue = fc
  .tuple(
    fc.oneof(fc.integer({ min: 1, max: 3_000 }), fc.constantFrom(126, 127, 128, 129, 130, 10_000, 100_000)),
    fc.constantFrom<'array' | 'object'>('array', 'object'),
  )
  .map(([depth, kind]) => RAW(deepJson(depth, kind)));

/** Any hostile JSON value. */
export const fuzzValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: nastyString },
  { weight: 3, arbitrary: nastyNumber },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, [], {}, [null], [''], [[]], { retry: null }, { retry: {} }, { __proto__: null }) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: deepValue },
  { weight: 1, arbitrary: fc.array(nastyString, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.constantFrom(JSON.parse('{"__proto__":{"polluted":1}}'), JSON.parse('{"constructor":{"prototype":{"polluted":1}}}')) },
);

/** A template object with one field replaced, deleted, duplicated-as-garbage, or garbage fields added. */
export function mutateObject(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(template);
  return fc.oneof(
    { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...keys), fuzzValue).map(([k, v]) => ({ ...template, [k]: v })) },
    { weight: 2, arbitrary: fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(template).filter(([key]) => key !== k))) },
    {
      weight: 2,
      arbitrary: fc
        .array(
          fc.tuple(
            fc.oneof(
              fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'id ', 'ID', 'encrypted', 'encryption_keys', 'digest', 'message', ''),
              fc.string({ maxLength: 10 }),
            ),
            fuzzValue,
          ),
          { minLength: 1, maxLength: 3 },
        )
        .map((extra) => {
          const o: Record<string, unknown> = { ...template };
          for (const [k, v] of extra) Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
          return o;
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...keys), fc.constantFrom(...keys), fuzzValue, fuzzValue)
        .map(([a, b, va, vb]) => ({ ...template, [a]: va, [b]: vb })),
    },
  );
}

/** A request body: a mutated template (most often), random JSON, random bytes, broken JSON text, or nothing. */
export function bodyFor(template: Record<string, unknown>): fc.Arbitrary<string | Uint8Array | undefined> {
  const valid = toJsonText(template);
  return fc.oneof(
    { weight: 10, arbitrary: mutateObject(template).map(toJsonText) },
    { weight: 2, arbitrary: fuzzValue.map(toJsonText) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: valid.length - 1 }).map((n) => valid.slice(0, n)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        'null',
        '{',
        '{"id": nope',
        '[]',
        '""',
        'NaN',
        '1e309',
        '{"a":1}{"b":2}',
        '\ufeff' + valid,
        valid.replace('{', '{"id":1,'),
        valid + 'x',
        "{'id':1}",
        '{"__proto__":{"id":"x"}}',
      ),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constantFrom(1, 128, 129, 5_000, 200_000).map((n) => '['.repeat(n) + ']'.repeat(n)) },
    { weight: 1, arbitrary: fc.constantFrom(100_000, 1_000_000).map((n) => toJsonText({ ...template, metadata: 'm'.repeat(n) })) },
  );
}

/** Query parameters as ordered pairs (repeats allowed), plus optional raw garbage appended verbatim. */
export function queryFor(names: string[]): fc.Arbitrary<{ pairs: [string, string][]; garbage: string }> {
  const value = fc.oneof(nastyString, fc.constantFrom('0', '1', '2', '1000000', '1000001', '-1', '100ms', '1ms', '0.05', 'todo'));
  const name = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...names) },
    { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'x', '', 'wait_count[]', 'filter[a]', 'to[0]') },
  );
  return fc.record({
    pairs: fc.array(fc.tuple(name, value), { maxLength: 5 }),
    garbage: fc.oneof(
      { weight: 8, arbitrary: fc.constant('') },
      {
        weight: 1,
        arbitrary: fc.constantFrom('&', '&&', '=', '==&=', '%', '%zz', '%00=%00', 'a=%E0%A4%A', '&'.repeat(2_000) + 'x=1', 'x=' + 'y'.repeat(9_000)),
      },
    ),
  });
}

/**
 * Keeps fuzzing from long-polling: a `wait_time` the server would accept is cut to at most 200 ms, and a lone
 * `wait_count` (which would wait up to an hour) gets `wait_time=100ms`. Everything invalid stays as generated.
 */
export function boundWaits(pairs: [string, string][]): [string, string][] {
  const out = pairs.map(([k, v]): [string, string] => {
    if (k !== 'wait_time') return [k, v];
    try {
      return [k, parseDuration(v, 'wait_time') > 200 ? '100ms' : v];
    } catch {
      return [k, v];
    }
  });
  if (out.some(([k]) => k === 'wait_count') && !out.some(([k]) => k === 'wait_time')) out.push(['wait_time', '100ms']);
  // A min_seq beyond the log makes the store wait (bounded, 2 s) for it: legal, but it would only slow the fuzz.
  for (const pair of out) if (pair[0] === 'min_seq' && /^\d+$/.test(pair[1].trim()) && Number(pair[1]) > 100) pair[1] = '1';
  return out;
}

export function queryString(q: { pairs: [string, string][]; garbage: string }): string {
  const s = new URLSearchParams(boundWaits(q.pairs)).toString();
  const all = [s, q.garbage].filter((x) => x !== '').join('&');
  return all === '' ? '' : `?${all}`;
}

/** A path segment: valid, random, encoded or raw tricks, or very long. */
export function segment(valid: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 3, arbitrary: nastyString.map((s) => encodeURIComponent(wellFormed(s.slice(0, 2_000)))) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '%',
        '%00',
        '%zz',
        '..',
        '.',
        '%2e%2e',
        '..%2f..%2f',
        '%2F',
        '%E0%A4%A',
        '%ff',
        ';',
        '*',
        '~',
        'a'.repeat(5_000),
        'a'.repeat(20_000),
      ),
    },
    { weight: 1, arbitrary: fc.uuid() },
  );
}

/** `s` with lone surrogates replaced by U+FFFD (encodeURIComponent throws on them). */
function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
