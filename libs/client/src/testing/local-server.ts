/**
 * A tiny real HTTP server on 127.0.0.1 for the client's unit tests: it records every request and lets a
 * test answer each one, so the client runs over real sockets (no mocked fetch). Not part of the package.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body as it arrived, byte for byte. */
  bytes: Buffer;
}

/** Answers request number `n` (0-based); `req.body` is the whole request body. */
export type Handler = (req: RecordedRequest, res: ServerResponse, n: number) => void;
/** Answers an upgrade request on the raw connection. */
export type UpgradeHandler = (req: IncomingMessage, socket: Socket, head: Buffer) => void;

export interface LocalServer {
  url: string;
  requests: RecordedRequest[];
  /** How many connections have closed so far (by either side). */
  closedConnections: () => number;
  close: () => Promise<void>;
}

export async function startLocalServer(handler: Handler, onUpgrade?: UpgradeHandler): Promise<LocalServer> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  let closed = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const bytes = Buffer.concat(chunks);
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: bytes.toString('utf8'), bytes };
      requests.push(recorded);
      handler(recorded, res, requests.length - 1);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closed++;
    });
  });
  if (onUpgrade) server.on('upgrade', onUpgrade);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    closedConnections: () => closed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers JSON with a status. */
export function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
}

/** Cuts the connection without an answer: the client sees a reset / socket hang-up. */
export function hangUp(res: ServerResponse): void {
  res.socket?.destroy();
}

/**
 * A URL nothing listens on: port 1 (tcpmux), which no test server can get. A port bound and released
 * again would not do: the OS may hand it to a server of a test running in parallel, which then receives
 * requests meant to be refused.
 */
export const REFUSING_URL = 'http://127.0.0.1:1';

/** Polls until `check` holds (for effects the client cannot await, such as a connection being closed). */
export async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
