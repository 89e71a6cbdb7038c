import { SseParser, type SseEvent, type SseItem } from './sse-parser';

const events = (items: SseItem[]): SseEvent[] => items.flatMap((i) => (i.kind === 'event' ? [i.event] : []));

/** Feeds the text one character at a time: every split point a network could produce. */
function feedByChar(parser: SseParser, text: string): SseItem[] {
  return [...text].flatMap((c) => parser.feed(c));
}

describe('SseParser', () => {
  it('dispatches an event at the blank line, with its type, data and id', () => {
    const parser = new SseParser();
    expect(parser.feed('id: 7\nevent: new_result\ndata: {"a":1}\n')).toEqual([]);
    expect(parser.feed('\n')).toEqual([{ kind: 'event', event: { event: 'new_result', data: '{"a":1}', id: '7' } }]);
    expect(parser.lastEventId).toBe('7');
  });

  it('joins multi-line data with newlines and types an event without event: as "message"', () => {
    expect(events(new SseParser().feed('data: first\ndata:second\ndata:  third\n\n'))).toEqual([{ event: 'message', data: 'first\nsecond\n third', id: '' }]);
  });

  it('accepts LF, CRLF and CR line ends, also when a CRLF is split across chunks', () => {
    const text = 'data: a\r\n\r\ndata: b\r\rdata: c\n\n';
    const whole = events(new SseParser().feed(text)).map((e) => e.data);
    expect(whole).toEqual(['a', 'b', 'c']);
    expect(events(feedByChar(new SseParser(), text)).map((e) => e.data)).toEqual(['a', 'b', 'c']);
    const split = new SseParser();
    expect(events([...split.feed('data: x\r'), ...split.feed('\n'), ...split.feed('\r'), ...split.feed('\n')]).map((e) => e.data)).toEqual(['x']);
  });

  it('reports comments and does not let them end or change an event', () => {
    const items = new SseParser().feed(': keep-alive\ndata: one\n:another\ndata: two\n\n');
    expect(items).toEqual([
      { kind: 'comment', text: 'keep-alive' },
      { kind: 'comment', text: 'another' },
      { kind: 'event', event: { event: 'message', data: 'one\ntwo', id: '' } },
    ]);
  });

  it('keeps the last id for later events, ignores ids with NUL, and an empty id resets it', () => {
    const parser = new SseParser();
    const got = events(parser.feed('id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n'));
    expect(got.map((e) => [e.data, e.id])).toEqual([
      ['a', '1'],
      ['b', '1'],
      ['c', '1'],
      ['d', ''],
    ]);
  });

  it('does not dispatch an event without data, and forgets its type', () => {
    expect(events(new SseParser().feed('event: wait_expired\n\ndata: x\n\n'))).toEqual([{ event: 'message', data: 'x', id: '' }]);
  });

  it('takes retry: only when it is all digits', () => {
    const parser = new SseParser();
    parser.feed('retry: 1500\n\nretry: 2s\n\n');
    expect(parser.reconnectionTimeMs).toBe(1500);
  });

  it('treats a field without a colon as a field with an empty value, and ignores unknown fields', () => {
    expect(events(new SseParser().feed('data\nfoo: bar\n\n'))).toEqual([{ event: 'message', data: '', id: '' }]);
  });

  it('skips a byte order mark at the start of the stream only', () => {
    expect(events(new SseParser().feed('\uFEFFdata: a\n\n')).map((e) => e.data)).toEqual(['a']);
    expect(events(new SseParser().feed('data: \uFEFFa\n\n')).map((e) => e.data)).toEqual(['\uFEFFa']);
  });

  it('takes an id as the last event id only once its event is complete, and reset() drops a half event with its id', () => {
    const parser = new SseParser();
    expect(parser.feed('id: 5\ndata: whole\n\nid: 6\ndata: half')).toHaveLength(1);
    expect(parser.lastEventId).toBe('5');
    parser.reset();
    expect(parser.lastEventId).toBe('5');
    expect(events(parser.feed('data: fresh\n\n'))).toEqual([{ event: 'message', data: 'fresh', id: '5' }]);
  });

  it('counts the id of an event without data, which is not dispatched', () => {
    const parser = new SseParser();
    expect(parser.feed('id: 9\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('9');
  });

  it('parses a long data line that arrives in many chunks', () => {
    const parser = new SseParser();
    const big = 'x'.repeat(200_000);
    const items: SseItem[] = [];
    items.push(...parser.feed('event: new_task\ndata: '));
    for (let i = 0; i < big.length; i += 1000) items.push(...parser.feed(big.slice(i, i + 1000)));
    items.push(...parser.feed('\n\n'));
    expect(events(items)).toEqual([{ event: 'new_task', data: big, id: '' }]);
  });
});
