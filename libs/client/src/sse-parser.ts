/**
 * A Server-Sent Events parser that follows the WHATWG HTML "event stream interpretation" exactly, fed
 * text as it arrives in chunks of any size: lines end in CRLF, LF or CR (a CRLF may be split across
 * chunks), `data:` lines of one event join with "\n", lines starting with ":" are comments, `id:` sets
 * the last event id for this and later events (one containing NUL is ignored) once its event is complete,
 * and `retry:` sets the reconnection time when it is all digits. An event without data is not dispatched,
 * as a browser does, but its `id:` still counts.
 */

/** One dispatched event. */
export interface SseEvent {
  /** The `event:` field; `message` when the event had none. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The last event id at dispatch: this event's `id:` or the latest one before it ("" if none). */
  id: string;
}

/** A complete event. */
export interface SseEventItem {
  /** Tells an event from a comment. */
  kind: 'event';
  /** The event. */
  event: SseEvent;
}

/** A comment line (`: keep-alive`), without the colon and one leading space. */
export interface SseCommentItem {
  /** Tells a comment from an event. */
  kind: 'comment';
  /** The comment's text. */
  text: string;
}

/** What one chunk of input produced, in order. */
export type SseItem = SseEventItem | SseCommentItem;

/**
 * Parses an event stream incrementally; one parser per stream. {@link BeamClient} uses it for its
 * streams; it is exported for apps that read other event streams of the proxy themselves.
 */
export class SseParser {
  private buffer = '';
  /** The previous chunk ended in CR: a LF at the start of this one belongs to that line end. */
  private afterCR = false;
  private atStart = true;
  private data: string[] = [];
  private eventType = '';
  /** The id of the event being received; it becomes {@link lastEventId} at the event's blank line. */
  private idBuffer = '';
  private lastId = '';
  private retryMs: number | undefined;

  /** The last event id seen so far (what a reconnect sends as `Last-Event-ID`). */
  get lastEventId(): string {
    return this.lastId;
  }

  /** The reconnection time the server asked for with `retry:`, if it did. */
  get reconnectionTimeMs(): number | undefined {
    return this.retryMs;
  }

  /** Parses a chunk; answers the events and comments completed by it. */
  feed(chunk: string): SseItem[] {
    let text = chunk;
    if (this.atStart && text.length > 0) {
      // A UTF-8 BOM at the very start of the stream is not part of the first line.
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.atStart = text.length === 0;
    }
    if (this.afterCR && text.startsWith('\n')) text = text.slice(1);
    if (text.length > 0) this.afterCR = false;
    // What is left over holds no line end, so the search starts at the new text: a long data line that
    // arrives in many chunks is scanned once, not once per chunk.
    let from = this.buffer.length;
    this.buffer += text;
    const items: SseItem[] = [];
    let start = 0;
    for (;;) {
      const end = nextLineEnd(this.buffer, from);
      if (end < 0) break;
      this.processLine(this.buffer.slice(start, end), items);
      if (this.buffer[end] === '\r') {
        if (end + 1 === this.buffer.length) this.afterCR = true;
        else if (this.buffer[end + 1] === '\n') {
          start = from = end + 2;
          continue;
        }
      }
      start = from = end + 1;
    }
    this.buffer = this.buffer.slice(start);
    return items;
  }

  /**
   * Forgets a half-received event, as a browser does when the connection drops: after a reconnect the
   * server sends that event again (the last event id is kept, since reconnecting sends it).
   */
  reset(): void {
    this.buffer = '';
    this.afterCR = false;
    this.atStart = true;
    this.data = [];
    this.eventType = '';
    this.idBuffer = this.lastId;
  }

  private processLine(line: string, items: SseItem[]): void {
    if (line === '') return this.dispatch(items);
    if (line.startsWith(':')) {
      items.push({ kind: 'comment', text: line.slice(1).replace(/^ /, '') });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
      // Unknown fields are ignored.
    }
  }

  private dispatch(items: SseItem[]): void {
    const data = this.data;
    const event = this.eventType;
    this.data = [];
    this.eventType = '';
    this.lastId = this.idBuffer;
    if (data.length === 0) return;
    items.push({ kind: 'event', event: { event: event === '' ? 'message' : event, data: data.join('\n'), id: this.lastId } });
  }
}

/** The index of the next CR or LF at or after `from`, or -1. */
function nextLineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) return i;
  }
  return -1;
}
