/**
 * The process is shutting down (SIGTERM): one signal for every waiting handler, so long-polls end the way a
 * timeout ends them (200/206 with what exists) and event streams end cleanly, instead of holding the process
 * open until their clients give up. A process has one lifetime, hence one module-level signal.
 */
const shutdown = new AbortController();

/** Aborts once the process began shutting down. */
export const shutdownSignal: AbortSignal = shutdown.signal;

export function beginShutdown(): void {
  if (!shutdown.signal.aborted) shutdown.abort(new Error('shutting down'));
}

export function isShuttingDown(): boolean {
  return shutdown.signal.aborted;
}
