/**
 * A read that waits at the broker, ended the way a timeout ends it when this proxy shuts down: the wait
 * upstream is given up (its signal aborts with the shutdown) and the broker is asked once more without
 * waiting, so the app gets what exists rather than a cut connection. `cutShort` says the answer came that
 * way: the wait did not complete (206).
 */
import type { WaitParams } from '@beamline/domain';
import { isShuttingDown } from '@beamline/http';

export type RawQuery = Record<string, string | undefined>;

const NO_WAIT: WaitParams = { waitMs: 0 };

export async function waitUntilShutdown<T>(
  raw: RawQuery,
  wait: WaitParams,
  signal: AbortSignal,
  read: (raw: RawQuery, wait: WaitParams, signal?: AbortSignal) => Promise<T>,
): Promise<{ value: T; cutShort: boolean }> {
  try {
    return { value: await read(raw, wait, signal), cutShort: false };
  } catch (err) {
    if (!isShuttingDown()) throw err;
    const { wait_count: _count, wait_time: _time, ...now } = raw;
    return { value: await read(now, NO_WAIT), cutShort: true };
  }
}
