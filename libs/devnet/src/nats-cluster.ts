/**
 * A real 3-node NATS JetStream cluster on 127.0.0.1 for tests and local experiments: three nats-server
 * processes on client and cluster ports the OS assigns (read back from their logs), each with its own
 * temporary store, routed to each other. The committed production equivalent is
 * `infra/nats/cluster/node-{1,2,3}.conf`.
 */
import { connect } from '@nats-io/transport-node';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ANY_PORT, DEV_MAX_FILE_STORE, NATS_MAX_PAYLOAD, NatsServerProcess, resolveNatsServerBinary, type NatsServerHandle } from './nats-server';

const META_LEADER_TIMEOUT_MS = 30_000;

export interface NatsClusterOptions {
  /** Only 3 for now (the smallest cluster that survives the loss of a node with R3 streams). */
  size?: 3;
  /** Echo every node's log lines to stdout as `[nats-<i>] ...`. */
  log?: boolean;
  /** 'beamline' by default. */
  name?: string;
  /** Each node's JetStream `max_file_store` in bytes (default {@link DEV_MAX_FILE_STORE}). */
  maxFileStore?: number;
}

/** One node of the cluster; `restart()` keeps its client port, cluster port and store. */
export interface NatsClusterNode extends NatsServerHandle {
  /** `beamline-nats-<i>`, 1-based. */
  readonly name: string;
  readonly clusterPort: number;
  readonly running: boolean;
  /** SIGTERM and wait for the exit; the store stays (restart() brings the node back). */
  stop(): Promise<void>;
  recentLogs(): string;
}

export interface NatsCluster {
  /** Each node's `nats://127.0.0.1:<port>`. */
  urls: string[];
  /** All of them, comma-separated: what NATS_URL takes. */
  url: string;
  nodes: NatsClusterNode[];
  /** Resolves once the cluster has a JetStream meta leader (it answers `$JS.API.INFO`). */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGTERM), starts them again on the same ports and stores, and waits for JetStream. */
  restart(): Promise<void>;
  /** Stops every node and removes the temporary stores. */
  stop(): Promise<void>;
}

/**
 * Where a node's only route points while it knows no other node: port 0, on which nothing can listen, so
 * the dial is refused at once (nats-server logs that once and keeps retrying quietly). JetStream clustering
 * will not start without a configured route ("JetStream cluster requires configured routes"), yet the first
 * node cannot know another node's port before that node exists; the others route to it instead.
 */
const NO_PEER_YET = 0;

/**
 * The configuration of one cluster node (the same shape as `infra/nats/cluster/node-<i>.conf`). `port` and
 * `clusterPort` may be `ANY_PORT`; with no `routePorts` the node waits for the others to route to it.
 */
export function natsClusterNodeConfig(node: {
  serverName: string;
  clusterName: string;
  port: number;
  clusterPort: number;
  routePorts: number[];
  storeDir: string;
  /** Each node holds one replica of every stream, so each needs room for all of Beamline's limits. */
  maxFileStore?: number;
}): string {
  const routePorts = node.routePorts.length > 0 ? node.routePorts : [NO_PEER_YET];
  return [
    '# Written by @beamline/devnet: a throwaway cluster node for development and tests.',
    `server_name: ${node.serverName}`,
    `listen: 127.0.0.1:${node.port}`,
    `max_payload: ${NATS_MAX_PAYLOAD}`,
    // As in infra/nats: a client busy for a moment on a loaded machine is not cut off as a slow consumer.
    'write_deadline: "10s"',
    'jetstream {',
    `  store_dir: ${JSON.stringify(node.storeDir)}`,
    `  max_file_store: ${node.maxFileStore ?? DEV_MAX_FILE_STORE}`,
    '}',
    'cluster {',
    `  name: ${node.clusterName}`,
    `  listen: 127.0.0.1:${node.clusterPort}`,
    '  routes: [',
    ...routePorts.map((p) => `    nats-route://127.0.0.1:${p}`),
    '  ]',
    '}',
    '',
  ].join('\n');
}

/**
 * Starts a 3-node JetStream cluster and resolves once it has a meta leader. On a failure half-way it stops
 * what it started and rethrows. The processes are SIGKILLed if this process exits without stopping them.
 */
export async function startNatsCluster(opts: NatsClusterOptions = {}): Promise<NatsCluster> {
  const size = opts.size ?? 3;
  if (size !== 3) throw new Error(`startNatsCluster: size must be 3, got ${size}`);
  const binary = resolveNatsServerBinary();
  const clusterName = opts.name ?? 'beamline';
  const workDir = mkdtempSync(join(tmpdir(), 'beamline-nats-cluster-'));
  const nodes: ClusterNode[] = [];
  for (let i = 1; i <= size; i++) {
    const serverName = `beamline-nats-${i}`;
    const storeDir = join(workDir, `node-${i}`, 'store');
    mkdirSync(storeDir, { recursive: true });
    nodes.push(
      new ClusterNode(serverName, {
        binary,
        configFile: join(workDir, `node-${i}`, 'nats.conf'),
        // Rendered at each launch: routes to every other node whose ports are known by then.
        config: (ports) =>
          natsClusterNodeConfig({
            serverName,
            clusterName,
            port: ports.client,
            clusterPort: ports.cluster ?? ANY_PORT,
            routePorts: nodes.filter((n) => n.name !== serverName && n.launched).map((n) => n.clusterPort),
            storeDir,
            maxFileStore: opts.maxFileStore,
          }),
        ports: { client: ANY_PORT, cluster: ANY_PORT },
        storeDir,
        log: opts.log ?? false,
        logPrefix: `[nats-${i}] `,
        what: `nats-server ${serverName}`,
      }),
    );
  }
  const cluster = new Cluster(nodes, workDir);
  try {
    // The first node comes up knowing no one; the others route to it, and gossip completes the mesh.
    // Every later launch (restart) lists all the other nodes.
    await nodes[0].launch();
    await Promise.all(nodes.slice(1).map((n) => n.launch()));
    await cluster.waitForJetStream();
    return cluster;
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw err;
  }
}

class ClusterNode extends NatsServerProcess implements NatsClusterNode {
  constructor(
    readonly name: string,
    spec: ConstructorParameters<typeof NatsServerProcess>[0],
  ) {
    super(spec);
  }

  get clusterPort(): number {
    const { cluster } = this.boundPorts();
    if (cluster === undefined) throw new Error(`${this.name} did not report a cluster port`);
    return cluster;
  }
}

class Cluster implements NatsCluster {
  constructor(
    readonly nodes: ClusterNode[],
    private readonly workDir: string,
  ) {}

  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  get url(): string {
    return this.urls.join(',');
  }

  async waitForJetStream(timeoutMs = META_LEADER_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      const live = this.nodes.filter((n) => n.running && n.launched).map((n) => n.url);
      try {
        const nc = await connect({ servers: live, timeout: 2_000, reconnect: false });
        try {
          const reply = await nc.request('$JS.API.INFO', undefined, { timeout: 2_000 });
          const info = JSON.parse(new TextDecoder().decode(reply.data)) as { error?: { description?: string } };
          if (!info.error) return;
          lastProblem = `$JS.API.INFO: ${info.error.description ?? JSON.stringify(info.error)}`;
        } finally {
          await nc.close();
        }
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `NATS cluster has no JetStream meta leader after ${timeoutMs} ms (${lastProblem}):\n` +
        this.nodes.map((n) => `--- ${n.name}\n${n.recentLogs().split('\n').slice(-20).join('\n')}`).join('\n'),
    );
  }

  async restart(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await Promise.all(this.nodes.map((n) => n.launch()));
    await this.waitForJetStream();
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    rmSync(this.workDir, { recursive: true, force: true });
  }
}
