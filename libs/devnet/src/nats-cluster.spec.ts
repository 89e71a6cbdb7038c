import { jetstreamManager, StorageType } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { natsClusterNodeConfig, startNatsCluster, type NatsCluster, type NatsClusterNode } from './nats-cluster';

jest.setTimeout(120_000);

const configOf = (node: NatsClusterNode): string => readFileSync(join(node.storeDir, '..', 'nats.conf'), 'utf8');
const routesIn = (config: string): number[] => [...config.matchAll(/nats-route:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));

/**
 * How many replicas of `stream` the cluster reports (the leader plus its current followers), once the
 * stream has a leader: after a restart its group elects one a moment after the meta leader is back.
 */
async function replicasOf(cluster: NatsCluster, stream: string, withinMs = 30_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const nc = await connect({ servers: cluster.urls });
    try {
      const info = await (await jetstreamManager(nc, { timeout: 2_000 })).streams.info(stream);
      if (info.cluster?.leader) return 1 + (info.cluster.replicas ?? []).length;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
    } finally {
      await nc.close();
    }
    if (Date.now() >= deadline) throw new Error(`${stream} has no leader after ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('startNatsCluster', () => {
  let cluster: NatsCluster | undefined;

  afterAll(async () => {
    await cluster?.stop();
  });

  it('comes up on client and cluster ports the OS assigned, and runs an R3 stream', async () => {
    cluster = await startNatsCluster();
    const ports = cluster.nodes.flatMap((n) => [n.port, n.clusterPort]);
    expect(ports.every((p) => p > 0)).toBe(true);
    expect(new Set(ports).size).toBe(6);
    expect(cluster.url).toBe(cluster.nodes.map((n) => `nats://127.0.0.1:${n.port}`).join(','));
    // The first launches asked nats-server for any port; the first node knew no peer, the others routed to it.
    for (const node of cluster.nodes) {
      expect(configOf(node)).toContain('listen: 127.0.0.1:-1\n');
      expect(configOf(node)).toMatch(/cluster \{\n {2}name: beamline\n {2}listen: 127\.0\.0\.1:-1\n/);
    }
    const [first, ...others] = cluster.nodes;
    expect(routesIn(configOf(first))).toEqual([0]);
    for (const node of others) expect(routesIn(configOf(node))).toEqual([first.clusterPort]);

    const nc = await connect({ servers: cluster.urls });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'DEVNET_R3', subjects: ['devnet.r3.>'], storage: StorageType.File, num_replicas: 3 });
    } finally {
      await nc.close();
    }
    expect(await replicasOf(cluster, 'DEVNET_R3')).toBe(3);
  });

  it('restarts a SIGKILLed node on its ports, routed to both others', async () => {
    const c = cluster!;
    const victim = c.nodes[0];
    const before = { port: victim.port, clusterPort: victim.clusterPort, pid: victim.pid };
    await victim.kill();
    await victim.restart();
    expect(victim.pid).not.toBe(before.pid);
    expect({ port: victim.port, clusterPort: victim.clusterPort }).toEqual({ port: before.port, clusterPort: before.clusterPort });
    expect(configOf(victim)).toContain(`listen: 127.0.0.1:${before.port}\n`);
    expect(routesIn(configOf(victim)).sort()).toEqual(
      c.nodes
        .slice(1)
        .map((n) => n.clusterPort)
        .sort(),
    );
    await c.waitForJetStream();
    expect(await replicasOf(c, 'DEVNET_R3')).toBe(3);
  });

  it('restarts as a whole on the same ports and keeps its streams', async () => {
    const c = cluster!;
    const urls = c.url;
    await c.restart();
    expect(c.url).toBe(urls);
    for (const node of c.nodes) {
      const peers = c.nodes.filter((n) => n !== node).map((n) => n.clusterPort);
      expect(routesIn(configOf(node)).sort()).toEqual(peers.sort());
    }
    expect(await replicasOf(c, 'DEVNET_R3')).toBe(3);
  });
});

describe('natsClusterNodeConfig', () => {
  it('routes a node that knows no peer yet to port 0, which nothing can listen on', () => {
    const config = natsClusterNodeConfig({ serverName: 'n1', clusterName: 'c', port: -1, clusterPort: -1, routePorts: [], storeDir: '/s' });
    expect(routesIn(config)).toEqual([0]);
    expect(
      routesIn(natsClusterNodeConfig({ serverName: 'n2', clusterName: 'c', port: -1, clusterPort: -1, routePorts: [4250, 4251], storeDir: '/s' })),
    ).toEqual([4250, 4251]);
  });
});
