/**
 * Direct sockets: an HTTP request with `Upgrade: tcp` that the proxy answers `101 Switching Protocols`;
 * from then on the connection is a plain byte stream to the other app (encrypted end to end between the
 * proxies). The initiator's `101` comes only once the recipient connected, up to the socket's TTL.
 */
import type { Socket } from 'node:net';
import { BeamAbortError, BeamNetworkError, httpError, throwIfAborted } from './errors';
import { createRequest, headerOf, readText, toBeamError, type RequestSpec, type Transport } from './http';

/**
 * Failures at connect time: the request provably never reached the proxy, so sending it again cannot
 * open a second socket request. A reset after the request went out is not retried: the first request
 * may have been registered, and its recipient could connect to an initiator that gave up.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** True when an upgrade failed before anything reached the proxy. */
export function upgradeNotSent(err: unknown): boolean {
  return err instanceof BeamNetworkError && NOT_SENT_CODES.has(err.code);
}

/**
 * Sends one upgrade request and resolves with the connection after a `101`. Any other answer rejects
 * with its {@link BeamHttpError}. The signal aborts the wait for the `101`, never the socket it gave.
 */
export function upgrade(transport: Transport, spec: RequestSpec): Promise<Socket> {
  const what = `${spec.method} ${spec.path}`;
  return new Promise<Socket>((resolve, reject) => {
    throwIfAborted(spec.signal);
    const req = createRequest(transport, { ...spec, headers: { ...spec.headers, upgrade: 'tcp', connection: 'Upgrade' } });
    const onAbort = (): void => {
      req.destroy(new BeamAbortError(spec.signal?.reason));
    };
    const settle = (): void => spec.signal?.removeEventListener('abort', onAbort);
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => {
      settle();
      reject(toBeamError(err, what, spec.signal));
    });
    req.on('upgrade', (_res, socket: Socket, head: Buffer) => {
      settle();
      // Bytes the peer sent right behind the 101 arrived with the head; they belong to the stream.
      if (head.length > 0) socket.unshift(head);
      socket.setTimeout(0);
      socket.setNoDelay(true);
      resolve(socket);
    });
    req.on('response', (res) => {
      readText(res, what, spec.signal).then(
        (text) => {
          settle();
          reject(httpError(what, res.statusCode ?? 0, text, headerOf(res.headers, 'retry-after')));
        },
        (err: unknown) => {
          settle();
          reject(toBeamError(err, what, spec.signal));
        },
      );
    });
    req.end();
  });
}
