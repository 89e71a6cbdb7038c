/**
 * A raw HTTP Upgrade client to the broker's socket relay (`Upgrade: tcp`), with the `Authorization` the
 * BrokerClient made for it (session MAC or signature), over a connection Egress opened (direct or through the
 * site's HTTP proxy, TLS included). Resolves with the upgraded connection once the broker answered 101; any
 * other answer becomes the matching typed error (410: SocketExpired).
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { BrokerUnavailable } from '@beamline/domain';

export class SocketExpired extends Error {
  constructor() {
    super('socket: the peer did not connect before the request expired');
    this.name = 'SocketExpired';
  }
}

export interface Upgraded {
  socket: Socket;
  head: Buffer;
  headers: IncomingHttpHeaders;
}

export async function openBrokerUpgrade(
  url: URL,
  connect: (url: URL) => Promise<Socket>,
  method: 'GET' | 'POST',
  /** Authorization, request id and version, as for every request to the broker. */
  brokerHeaders: Record<string, string>,
  expect: (res: { status: number; body: unknown; headers: IncomingHttpHeaders }) => never,
  signal: AbortSignal,
): Promise<Upgraded> {
  let connection: Socket;
  try {
    connection = await connect(url);
  } catch (err) {
    throw signal.aborted ? err : new BrokerUnavailable(`broker: unreachable (${(err as Error).message})`, undefined, { cause: err });
  }
  return new Promise<Upgraded>((resolve, reject) => {
    const headers = { ...brokerHeaders, host: url.host, connection: 'Upgrade', upgrade: 'tcp', 'content-length': '0' };
    const req = httpRequest({ method, path: url.pathname + url.search, headers, signal, createConnection: () => connection });
    req.on('upgrade', (res, socket, head) => {
      if (res.statusCode !== 101) {
        socket.destroy();
        reject(new BrokerUnavailable(`broker: unexpected upgrade answer ${res.statusCode}`));
        return;
      }
      resolve({ socket, head, headers: res.headers });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new BrokerUnavailable(`broker: ${err.message}`)));
      res.on('end', () => {
        const status = res.statusCode ?? 502;
        if (status === 410) return reject(new SocketExpired());
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the text
        }
        try {
          expect({ status, body, headers: res.headers });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', (err) => reject(signal.aborted ? err : new BrokerUnavailable(`broker: unreachable (${err.message})`)));
    req.end();
  });
}
