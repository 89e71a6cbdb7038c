/**
 * An HTTP forwarder in front of the broker that can hold requests back, to make the broker "slow", answer
 * them 503 for a while, as a broker does while NATS elects a new stream leader, or rewrite its JSON answers,
 * as a lying broker (or a man in the middle) would. Answers are buffered, not streamed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayingForwarder {
  url: string;
  /** Requests whose method and path match are delayed by `ms` before being forwarded. */
  delay(match: (method: string, path: string) => boolean, ms: number): void;
  /** Matching requests are answered 503 `nats_unavailable` (not forwarded) for the next `ms`; returns how many were. */
  unavailableFor(match: (method: string, path: string) => boolean, ms: number): () => number;
  /** JSON answers to matching requests are replaced by `rewrite(json)` from now on. */
  rewriteJson(match: (method: string, path: string) => boolean, rewrite: (json: unknown) => unknown): void;
  close(): Promise<void>;
}

export async function startDelayingForwarder(target: string): Promise<DelayingForwarder> {
  let rule: { match: (method: string, path: string) => boolean; ms: number } | undefined;
  let outage: { match: (method: string, path: string) => boolean; until: number; refused: number } | undefined;
  let rewriter: { match: (method: string, path: string) => boolean; rewrite: (json: unknown) => unknown } | undefined;
  const server: Server = createServer((req, res) => {
    if (outage && Date.now() < outage.until && outage.match(req.method ?? 'GET', req.url ?? '/')) {
      outage.refused++;
      req.resume();
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'nats_unavailable', message: 'event log briefly unavailable, retry: no stream leader' }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      try {
        if (rule?.match(req.method ?? 'GET', req.url ?? '/')) await new Promise((r) => setTimeout(r, rule!.ms));
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers))
          if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length') headers[k] = v;
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        const upstream = await fetch(target + req.url, { method: req.method, headers, body });
        let out = Buffer.from(await upstream.arrayBuffer());
        if (rewriter?.match(req.method ?? 'GET', req.url ?? '/') && upstream.headers.get('content-type')?.includes('json')) {
          out = Buffer.from(JSON.stringify(rewriter.rewrite(JSON.parse(out.toString('utf8')))));
        }
        const back: Record<string, string> = {};
        upstream.headers.forEach((v, k) => {
          if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'content-encoding'].includes(k)) back[k] = v;
        });
        res.writeHead(upstream.status, back).end(out);
      } catch {
        if (!res.headersSent) res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    delay: (match, ms) => (rule = { match, ms }),
    rewriteJson: (match, rewrite) => (rewriter = { match, rewrite }),
    unavailableFor: (match, ms) => {
      const current = (outage = { match, until: Date.now() + ms, refused: 0 });
      return () => current.refused;
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
