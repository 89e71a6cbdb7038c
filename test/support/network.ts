/** One dev network per test file: real nats-server, broker-store, broker-api and two proxies on ports the OS assigns. */
import { BeamClient } from '@beamline/client';
import { startDevNetwork, type DevNetwork, type DevNetworkOptions } from '@beamline/devnet';
import { AppClient } from './app-client';

export interface TestNetwork {
  net: DevNetwork;
  /**
   * app1 behind proxy1, app2 behind proxy2 (Samply.Beam's walkthrough), on the raw wire: what an unchanged
   * Samply.Beam app sends and sees (every status and header), for the tests that pin the wire contract.
   */
  app1: AppClient;
  app2: AppClient;
  /** The same two apps through @beamline/client (retries, typed errors, decoded bodies), for the tests of flows. */
  beam1: BeamClient;
  beam2: BeamClient;
  /** app2 behind proxy1: a second app on the same site. */
  app2AtProxy1: AppClient;
}

export const APP1 = 'app1.proxy1.broker';
export const APP2 = 'app2.proxy2.broker';

export async function startTestNetwork(opts: DevNetworkOptions = {}): Promise<TestNetwork> {
  const net = await startDevNetwork({ log: process.env.BEAMLINE_TEST_LOG === '1', ...opts });
  const [p1, p2] = net.proxies;
  return {
    net,
    app1: new AppClient(p1.url, APP1),
    app2: new AppClient(p2.url, APP2),
    beam1: new BeamClient(APP1, 'App1Secret', p1.url),
    beam2: new BeamClient(APP2, 'App1Secret', p2.url),
    app2AtProxy1: new AppClient(p1.url, 'app2.proxy1.broker'),
  };
}

/** Prints every component's recent logs; call from a failing test's catch or afterAll when debugging. */
export function dumpLogs(net: DevNetwork): string {
  return [...net.services.values()].map((s) => `--- ${s.name}\n${s.recentLogs()}`).join('\n');
}

/** The JSON log lines in a service's output (services log JSON lines when stdout is not a terminal); other lines are skipped. */
export function logEntries(logs: string): Array<Record<string, unknown>> {
  const entries: Array<Record<string, unknown>> = [];
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by the tail's limit
    }
  }
  return entries;
}
