import { startNatsCluster, type NatsCluster } from '@beamline/devnet';
import type { CliIo, Command } from '../command';
import { wantsHelp } from '../command';
import { didYouMean } from '../suggest';

const USAGE = `Usage: beamline nats-cluster [--quiet]

Starts a local 3-node NATS JetStream cluster (three nats-server processes on client and cluster ports of
127.0.0.1 that the OS assigns, temporary stores) and prints the NATS_URL to give broker-api and broker-store, together with
STREAM_REPLICAS=3. The layout is that of infra/nats/cluster/node-{1,2,3}.conf. Ctrl-C stops it and removes
the stores.

Options:
  --quiet          do not echo the servers' logs

Environment:
  NATS_SERVER_BIN  the nats-server binary (default /usr/sbin/nats-server, else PATH)
`;

export const natsClusterCommand: Command = {
  name: 'nats-cluster',
  summary: 'run a local 3-node NATS JetStream cluster until Ctrl-C',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    if (wantsHelp(args)) {
      io.out(USAGE);
      return 0;
    }
    const unexpected = args.find((a) => a !== '--quiet');
    if (unexpected) {
      io.err(
        `beamline nats-cluster: unexpected argument ${unexpected}${didYouMean(unexpected, ['--quiet'])}\nRun "beamline nats-cluster --help" for its options.\n`,
      );
      return 2;
    }
    const abort = (): never => process.exit(130);
    process.once('SIGINT', abort).once('SIGTERM', abort);
    let cluster: NatsCluster;
    try {
      cluster = await startNatsCluster({ log: !args.includes('--quiet') });
    } finally {
      process.off('SIGINT', abort).off('SIGTERM', abort);
    }
    io.out(
      `\nNATS cluster ready (JetStream meta leader elected):\n` +
        cluster.nodes.map((n) => `  ${n.name}: ${n.url} (cluster port ${n.clusterPort}, store ${n.storeDir})\n`).join('') +
        `\nNATS_URL=${cluster.url} STREAM_REPLICAS=3\n\nCtrl-C stops it.\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve()).once('SIGTERM', () => resolve());
    });
    process.on('SIGINT', () => undefined).on('SIGTERM', () => undefined); // npm may forward Ctrl-C twice
    io.out('\nStopping the NATS cluster…\n');
    await cluster.stop();
    io.out('Stopped.\n');
    return 0;
  },
};
