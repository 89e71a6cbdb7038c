/**
 * Relays a broker event stream to an app: each broker event is verified and opened here before it is
 * written (a message that fails verification is dropped, never shown); other events pass through as-is.
 * Ends when the broker ends the stream; an app that goes away aborts the broker stream at once.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { SseEvent, SseWriter } from '@beamline/http';

export type EventTranslator = (event: EventSourceMessage) => Promise<SseEvent | undefined>;

export async function relayEvents(upstream: AsyncIterable<Uint8Array>, sse: SseWriter, translate: EventTranslator, signal: AbortSignal): Promise<void> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => pending.push(e) });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of upstream) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      while (pending.length > 0) {
        const out = await translate(pending.shift() as EventSourceMessage);
        if (out) sse.send(out);
      }
      if (sse.closed) break;
    }
  } catch (err) {
    if (!signal.aborted) sse.comment('broker stream interrupted');
  } finally {
    sse.end();
  }
}

/** The header that asks the broker to resume a stream after sequence `afterSeq` (none from the start). */
export function resumeHeader(afterSeq: number): Record<string, string> {
  return afterSeq > 0 ? { 'last-event-id': String(afterSeq) } : {};
}

/** An event's data as JSON; undefined when it is not (the caller's verification then refuses it). */
export function parseEventData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return undefined;
  }
}
