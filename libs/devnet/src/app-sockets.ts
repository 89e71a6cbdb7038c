/** App-side direct-socket helpers for tests and benches: raw HTTP Upgrade to a proxy, then a plain byte stream. */
import { connect, type Socket } from 'node:net';

export interface UpgradeResult {
  status: number;
  head: string;
  /** The connection after a 101 (bytes after the response head are unshifted back). */
  socket: Socket;
  /** The JSON body of a non-101 answer. */
  body?: unknown;
}

/** Sends `method path` with the given headers over a fresh TCP connection and reads the answer head. */
export function rawUpgrade(
  proxyUrl: string,
  method: string,
  path: string,
  appId: string,
  headers: Record<string, string> = { Upgrade: 'tcp', Connection: 'Upgrade' },
  key = 'App1Secret',
): Promise<UpgradeResult> {
  const url = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      const rest = buf.subarray(end + 4);
      if (status === 101) {
        socket.off('data', onData);
        socket.pause();
        if (rest.length > 0) socket.unshift(rest);
        resolve({ status, head, socket });
        return;
      }
      const len = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (rest.length < len) return;
      socket.off('data', onData);
      socket.destroy();
      let body: unknown;
      try {
        body = JSON.parse(rest.subarray(0, len).toString('utf8'));
      } catch {
        body = rest.toString('utf8');
      }
      resolve({ status, head, socket, body });
    };
    socket.on('data', onData);
    socket.on('error', reject);
    socket.on('connect', () => {
      const lines = [
        `${method} ${path} HTTP/1.1`,
        `Host: ${url.host}`,
        `Authorization: ApiKey ${appId} ${key}`,
        'Content-Length: 0',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(lines.join('\r\n') + '\r\n\r\n');
    });
  });
}

/** Reads exactly `n` bytes from a (paused or flowing) socket. */
export function readExactly(socket: Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer): void => {
      const need = n - got;
      const extra = c.length > need ? c.subarray(need) : undefined;
      if (extra) c = c.subarray(0, need);
      chunks.push(c);
      got += c.length;
      if (got === n) {
        cleanup();
        socket.pause();
        if (extra) socket.unshift(extra);
        resolve(Buffer.concat(chunks));
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`stream ended after ${got} of ${n} bytes`));
    };
    const cleanup = (): void => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.resume();
  });
}

/** Resolves when the socket emits 'close' (or at once if already closed); with the elapsed ms. */
export function closed(socket: Socket): Promise<number> {
  const started = Date.now();
  if (socket.destroyed) return Promise.resolve(0);
  return new Promise((resolve) => socket.once('close', () => resolve(Date.now() - started)));
}
