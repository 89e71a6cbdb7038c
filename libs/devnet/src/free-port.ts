import { createServer } from 'node:net';

/**
 * Finds a TCP port that is free on 127.0.0.1 right now: binds port 0, reads what the OS chose, closes.
 * Another process may take it before the caller binds it, so callers that start a server on it should
 * treat "address in use" as retryable.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close((err) => (err ? reject(err) : port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
