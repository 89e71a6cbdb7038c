/**
 * Test-only: a tiny round-robin HTTP balancer in front of several broker-api replicas, so the proxies see
 * one BROKER_URL while consecutive requests land on different replicas. Each request goes to the next
 * backend in turn; bodies are piped both ways (long-polls and SSE streams included). A backend that is down
 * is answered with 502; one that dies mid-response has its client connection cut, as a real balancer would.
 * Not part of the product path.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RoundRobin {
  url: string;
  backends: string[];
  /**
   * How many requests went to each backend (by index), how many were answered 502 here, and the paths each
   * backend is serving right now (so a test can kill the replica that serves a given request).
   */
  stats: { forwarded: number[]; badGateway: number; serving: Array<Map<string, number>> };
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** Counts `path` in `serving` until `res` closes. */
function countWhileOpen(serving: Map<string, number>, path: string, res: { once(event: 'close', listener: () => void): unknown }): void {
  serving.set(path, (serving.get(path) ?? 0) + 1);
  res.once('close', () => {
    const left = (serving.get(path) ?? 1) - 1;
    if (left > 0) serving.set(path, left);
    else serving.delete(path);
  });
}

export async function startRoundRobin(backends: string[]): Promise<RoundRobin> {
  if (backends.length === 0) throw new Error('round-robin: no backends');
  const targets = backends.map((b) => new URL(b));
  const stats = { forwarded: backends.map(() => 0), badGateway: 0, serving: backends.map(() => new Map<string, number>()) };
  // No keep-alive towards the backends: a killed replica then shows up as a refused connection at once.
  const agent = new Agent({ keepAlive: false });
  const sockets = new Set<Socket>();
  let next = 0;

  const server: Server = createServer((req, res) => {
    const i = next++ % targets.length;
    const target = targets[i];
    stats.forwarded[i]++;
    countWhileOpen(stats.serving[i], req.url ?? '/', res);
    const headers: IncomingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (!HOP_BY_HOP.has(k)) headers[k] = v;
    headers.host = target.host;
    const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, (upRes) => {
      const back: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(upRes.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) back[k] = v;
      res.writeHead(upRes.statusCode ?? 502, back);
      res.flushHeaders(); // SSE: the client sees the headers before the first event
      upRes.pipe(res);
      // The backend died mid-response: cut the client off too, so it sees a transport error.
      upRes.on('aborted', () => res.destroy());
      upRes.on('error', () => res.destroy());
    });
    upstream.on('error', () => {
      if (!res.headersSent) {
        stats.badGateway++;
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'bad_gateway', message: `backend ${target.host} is down` }));
      } else {
        res.destroy();
      }
    });
    // The client went away (an app gave up on a long-poll): release the backend request too.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    backends,
    stats,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}
