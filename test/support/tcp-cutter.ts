/**
 * A TCP forwarder whose connections a test can cut: put it between a service and NATS, then `cut()` to
 * drop every connection at once, as a network blip would. New connections are accepted again right away.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpCutter {
  url: string;
  /** Connections cut so far. */
  cuts: number;
  cut(): void;
  close(): Promise<void>;
}

export async function startTcpCutter(target: { host: string; port: number }, scheme = 'nats'): Promise<TcpCutter> {
  const live = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(target.port, target.host);
    for (const s of [inbound, outbound]) {
      live.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        live.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const cutter: TcpCutter = {
    url: `${scheme}://127.0.0.1:${port}`,
    cuts: 0,
    cut() {
      for (const s of [...live]) {
        s.destroy();
        cutter.cuts++;
      }
    },
    async close() {
      cutter.cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return cutter;
}
