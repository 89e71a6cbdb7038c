/** Reads a Server-Sent Events response the way a browser's EventSource would, recording everything. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseSession {
  status: number;
  contentType: string | null;
  events: EventSourceMessage[];
  comments: string[];
  /** Resolves when the server ended the stream (or it was aborted). */
  ended: Promise<void>;
  /** Resolves once at least `n` events arrived. */
  waitForEvents(n: number, timeoutMs?: number): Promise<EventSourceMessage[]>;
  close(): void;
}

export async function openSse(url: string, auth: string, headers: Record<string, string> = {}): Promise<SseSession> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: auth, accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: EventSourceMessage[] = [];
  const comments: string[] = [];
  const waiters: Array<() => void> = [];
  const parser = createParser({
    onEvent: (e) => {
      events.push(e);
      waiters.splice(0).forEach((w) => w());
    },
    onComment: (c) => comments.push(c.trim()),
  });
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted by close()
    }
    waiters.splice(0).forEach((w) => w());
  })();
  return {
    status: res.status,
    contentType: res.headers.get('content-type'),
    events,
    comments,
    ended,
    close: () => controller.abort(),
    async waitForEvents(n, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n) {
        if (Date.now() > deadline) throw new Error(`only ${events.length} of ${n} events within ${timeoutMs} ms: ${JSON.stringify(events)}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), new Promise((r) => setTimeout(r, 100)), ended]);
      }
      return events.slice(0, n);
    },
  };
}
