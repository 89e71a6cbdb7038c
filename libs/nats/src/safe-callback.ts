import type { Msg } from '@nats-io/nats-core';

/**
 * Wraps a subscription handler so that nothing it throws or rejects reaches nats.js: an exception thrown in
 * a callback unwinds through the client's read loop, and a rejection nobody handles ends a Node process. A
 * malformed message from anyone with publish rights must cost one log line, not the process.
 */
export function safeCallback(
  context: string,
  onError: (message: string) => void,
  handle: (msg: Msg) => void | Promise<void>,
): (err: Error | null, msg: Msg) => void {
  const report = (err: unknown): void => {
    try {
      onError(`${context}: ${err instanceof Error ? err.message : String(err)}`);
    } catch {
      // a failing logger must not take the process down either
    }
  };
  return (err, msg) => {
    if (err) return report(err);
    try {
      const pending = handle(msg);
      if (pending) pending.catch(report);
    } catch (thrown) {
      report(thrown);
    }
  };
}
