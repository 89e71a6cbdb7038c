import { dirname } from 'node:path';
import { DEV_DEFAULTS, startDevNetwork, type DevNetwork } from '@beamline/devnet';
import type { CliIo, Command } from '../command';
import { wantsHelp } from '../command';

const BROKER_PORT = 8080;
const PROXIES = [
  { id: 'proxy1.broker', port: 8081 },
  { id: 'proxy2.broker', port: 8082 },
];

const USAGE = `Usage: beamline demo [--secure-nats]

Starts a local Beamline network from the built apps (run "npm run build" first, or use "npm run demo"):
NATS JetStream, broker-store, broker-api on :${BROKER_PORT} and the proxies ${PROXIES.map((p) => `${p.id} on :${p.port}`).join(', ')},
each serving apps app1 and app2 with key App1Secret (Samply.Beam's "Getting started" setup).
Logs of every component go to stdout. Ctrl-C stops everything.

Options:
  --secure-nats    run NATS as infra/nats does: TLS (a test CA; client certificates required) and the users
                   of infra/nats/auth.conf; broker-api and broker-store log in as their own users

Environment:
  NATS_URL         use this NATS server instead of starting one
  NATS_SERVER_BIN  the nats-server binary (default /usr/sbin/nats-server, else PATH)
`;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a local dev network (broker :8080, proxies :8081 and :8082) until Ctrl-C',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    if (wantsHelp(args)) {
      io.out(USAGE);
      return 0;
    }
    const unexpected = args.find((a) => a !== '--secure-nats');
    if (unexpected !== undefined) {
      io.err(`beamline demo: unexpected argument ${unexpected}\n\n${USAGE}`);
      return 2;
    }
    // A signal while starting: exit at once; the 'exit' hook of @beamline/devnet kills what was started.
    const abort = (): never => process.exit(130);
    process.once('SIGINT', abort).once('SIGTERM', abort);
    let net: DevNetwork;
    try {
      net = await startDevNetwork({
        brokerPort: BROKER_PORT,
        proxies: PROXIES,
        natsUrl: process.env.NATS_URL || undefined,
        natsSecurity: args.includes('--secure-nats') || undefined,
        log: true,
        // Samply.Beam's socket example lists socket requests without parameters and expects to wait for one.
        extraEnv: { proxy: { SOCKET_LIST_WAIT: 'beam' } },
      });
    } finally {
      process.off('SIGINT', abort).off('SIGTERM', abort);
    }
    io.out(banner(net));
    await nextSignal();
    io.out('\nStopping the dev network…\n');
    await net.stop();
    io.out('Stopped.\n');
    return 0;
  },
};

/** Resolves on the first SIGINT or SIGTERM, and keeps swallowing later ones (npm forwards Ctrl-C a second time). */
function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => resolve(signal);
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
}

function natsNote(net: DevNetwork): string {
  if (!net.nats) return '(from NATS_URL)';
  if (!net.natsSecurity) return '(started for the demo, removed on exit)';
  return `(TLS and the logins of infra/nats/auth.conf; CA ${net.natsSecurity.tls.caCertFile}, passwords in ${dirname(net.natsSecurity.tls.dir)})`;
}

function banner(net: DevNetwork): string {
  const brokerPort = new URL(net.brokerUrl).port;
  const first = net.proxies[0];
  const auth = `Authorization: ApiKey app1.${first.id} ${DEV_DEFAULTS.apps[0].key}`;
  const body = JSON.stringify({
    body: 'What is the answer to the ultimate question of life, the universe, and everything?',
    failure_strategy: { retry: { backoff_millisecs: 1000, max_tries: 5 } },
    from: `app1.${first.id}`,
    id: '70c0aa90-bfcf-4312-a6af-42cbd57dc0b8',
    metadata: 'The broker can read and use this field e.g., to apply filters on behalf of an app',
    to: [`app2.${net.proxies[1]?.id ?? first.id}`],
    ttl: '60s',
  });
  const rows = [
    ['broker', `http://localhost:${brokerPort}`, `(BrokerId ${DEV_DEFAULTS.brokerId}, MONITORING_API_KEY=${DEV_DEFAULTS.monitoringApiKey})`],
    ...net.proxies.map((p) => [p.id, `http://localhost:${p.port}`, `(apps ${DEV_DEFAULTS.apps.map((a) => a.label).join(', ')})`]),
    ['NATS', net.natsUrl, natsNote(net)],
  ];
  return [
    '',
    'Beamline dev network is up.',
    ...rows.map(([name, url, note]) => `  ${name.padEnd(14)} ${url.padEnd(26)} ${note}`),
    '',
    'Apps authenticate to their proxy with the header',
    `  ${auth}`,
    '',
    'Follow Samply.Beam\'s "Getting started" walkthrough; its first step creates a task:',
    `  curl -v --json '${body}' -H "${auth}" http://localhost:${first.port}/v1/tasks`,
    '',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
