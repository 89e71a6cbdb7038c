import type { AddressInfo } from 'node:net';

/**
 * The one line an HTTP app prints on stdout once it listens, e.g. `listening on http://127.0.0.1:43127`.
 * With `BIND_ADDR=127.0.0.1:0` the OS picks the port, and whoever started the app learns it from this line
 * (libs/devnet's `startHttpService` parses it), so nobody has to pick a port first and hope it stays free.
 * The shape is a contract: keep it in step with libs/devnet/src/listening-line.ts.
 */
export function listeningLine(address: AddressInfo | string | null): string {
  if (address === null || typeof address === 'string') {
    throw new Error(`listening: expected a TCP address, got ${JSON.stringify(address)}`);
  }
  const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `listening on http://${host}:${address.port}`;
}
