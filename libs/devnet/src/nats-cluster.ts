/**
 * A real 3-node NATS JetStream cluster on 127.0.0.1 for tests and local experiments: three nats-server
 * processes on free client and cluster ports, each with its own temporary store, routed to each other.
 * The committed production equivalent is `infra/nats/cluster/node-{1,2,3}.conf`.
 */
import { connect } from '@nats-io/transport-node';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';
import {
  DEV_MAX_FILE_STORE,
  NATS_MAX_PAYLOAD,
  NatsServerProcess,
  isAddressInUse,
  resolveNatsServerBinary,
  type NatsServerHandle,
} from './nats-server';

const PORT_ATTEMPTS = 3;
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

/** The configuration of one cluster node (the same shape as `infra/nats/cluster/node-<i>.conf`). */
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
    ...node.routePorts.map((p) => `    nats-route://127.0.0.1:${p}`),
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
  for (let attempt = 1; ; attempt++) {
    const workDir = mkdtempSync(join(tmpdir(), 'beamline-nats-cluster-'));
    const ports: number[] = [];
    while (ports.length < size * 2) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const clientPorts = ports.slice(0, size);
    const clusterPorts = ports.slice(size);
    const nodes: ClusterNode[] = clientPorts.map((port, i) => {
      const serverName = `beamline-nats-${i + 1}`;
      const storeDir = join(workDir, `node-${i + 1}`, 'store');
      mkdirSync(storeDir, { recursive: true });
      const config = natsClusterNodeConfig({
        serverName,
        clusterName,
        port,
        clusterPort: clusterPorts[i],
        routePorts: clusterPorts.filter((_, j) => j !== i),
        storeDir,
        maxFileStore: opts.maxFileStore,
      });
      return new ClusterNode(serverName, clusterPorts[i], {
        binary,
        configFile: join(workDir, `node-${i + 1}`, 'nats.conf'),
        config,
        port,
        storeDir,
        log: opts.log ?? false,
        logPrefix: `[nats-${i + 1}] `,
      });
    });
    const cluster = new Cluster(nodes, workDir);
    try {
      await Promise.all(nodes.map((n) => n.launch()));
      await cluster.waitForJetStream();
      return cluster;
    } catch (err) {
      await cluster.stop().catch(() => undefined);
      if (attempt < PORT_ATTEMPTS && isAddressInUse(err)) continue;
      throw err;
    }
  }
}

class ClusterNode extends NatsServerProcess implements NatsClusterNode {
  constructor(
    readonly name: string,
    readonly clusterPort: number,
    spec: ConstructorParameters<typeof NatsServerProcess>[0],
  ) {
    super(spec);
  }
}

class Cluster implements NatsCluster {
  readonly urls: string[];
  readonly url: string;

  constructor(readonly nodes: ClusterNode[], private readonly workDir: string) {
    this.urls = nodes.map((n) => n.url);
    this.url = this.urls.join(',');
  }

  async waitForJetStream(timeoutMs = META_LEADER_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'no answer yet';
    while (Date.now() < deadline) {
      const live = this.nodes.filter((n) => n.running).map((n) => n.url);
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
