import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_DEFAULTS, startDevNetwork, type DevNetwork } from '@beamline/devnet';
import type { CliIo, Command } from '../command';
import { wantsHelp } from '../command';
import { didYouMean } from '../suggest';
import { demoFiles, removeDemoFiles, runningDemo, writeDemoFiles, type DemoFiles } from './demo-files';

const DEFAULT_PORT_BASE = 8080;
const PROXY_IDS = ['proxy1.broker', 'proxy2.broker'];

const USAGE = `Usage: beamline demo [--port-base N] [--secure-nats]

Starts a local Beamline network from the built apps (run "npm run build" first, or use "npm run demo"):
NATS JetStream, broker-store, broker-api on :${DEFAULT_PORT_BASE} and the proxies ${PROXY_IDS.map((id, i) => `${id} on :${DEFAULT_PORT_BASE + 1 + i}`).join(', ')},
each serving apps app1 and app2 with key App1Secret (Samply.Beam's "Getting started" setup).
Logs of every component go to stdout. Ctrl-C stops everything.

While it runs, .beamline/demo.env in the repository names its NATS_URL, its CA directory (.beamline/demo-ca),
root certificate, proxy keys and URLs. Every other "beamline" command reads it (flags and environment
variables win), so "beamline pki sign", "pki list" and "audit replay" work against the demo without
--nats-url or --ca-dir. Both are removed when the demo stops.

Options:
  --port-base N    broker-api on N, the proxies on N+1 and N+2 (default ${DEFAULT_PORT_BASE})
  --secure-nats    run NATS as infra/nats does: TLS (a test CA; client certificates required) and the users
                   of infra/nats/auth.conf; broker-api and broker-store log in as their own users, and
                   demo.env logs the CLI in as beamline-ca

Environment:
  NATS_URL          use this NATS server instead of starting one
  NATS_SERVER_BIN   the nats-server binary (default /usr/sbin/nats-server, else PATH)
  BEAMLINE_DEMO_ENV where to write demo.env instead (empty: write none)
`;

interface DemoOptions {
  portBase: number;
  secureNats: boolean;
}

/** The options, or a one-line usage error. */
function parseDemoArgs(args: string[]): DemoOptions | string {
  let values;
  try {
    values = parseArgs({ args, options: { 'port-base': { type: 'string' }, 'secure-nats': { type: 'boolean' } }, strict: true }).values;
  } catch (err) {
    const message = (err as Error).message.split('\n')[0].split('. To specify')[0];
    const unknown = /^Unknown option '(--?[^']+)'/.exec(message)?.[1];
    return unknown ? `unknown option ${unknown}${didYouMean(unknown, ['--port-base', '--secure-nats'])}` : message;
  }
  const raw = values['port-base'];
  const portBase = raw === undefined ? DEFAULT_PORT_BASE : Number(raw);
  if (!/^\d+$/.test(raw ?? '0') || !Number.isSafeInteger(portBase) || portBase < 1 || portBase > 65_533) {
    return `--port-base must be a port from 1 to 65533, got ${JSON.stringify(raw)}`;
  }
  return { portBase, secureNats: values['secure-nats'] === true };
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run a local dev network (broker :8080, proxies :8081 and :8082) until Ctrl-C',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    if (wantsHelp(args)) {
      io.out(USAGE);
      return 0;
    }
    const opts = parseDemoArgs(args);
    if (typeof opts === 'string') {
      io.err(`beamline demo: ${opts}\nRun "beamline demo --help" for its options.\n`);
      return 2;
    }
    const files = demoFiles();
    const running = files && runningDemo(files.envFile);
    if (running) {
      io.err(`beamline demo: another demo is running (pid ${running}, ${files.envFile}); stop it first\n`);
      return 1;
    }
    const net = await startDemo(opts, files);
    if (files) writeDemoFiles(files, net);
    io.out(banner(net, files?.envFile));
    await nextSignal();
    io.out('\nStopping the dev network…\n');
    await net.stop();
    if (files) removeDemoFiles(files);
    io.out('Stopped.\n');
    return 0;
  },
};

async function startDemo(opts: DemoOptions, files: DemoFiles | undefined): Promise<DevNetwork> {
  // A signal while starting: exit at once; the 'exit' hook of @beamline/devnet kills what was started.
  const abort = (): never => process.exit(130);
  process.once('SIGINT', abort).once('SIGTERM', abort);
  try {
    if (files) removeDemoFiles(files); // left by a demo that was killed; its NATS is gone
    return await startDevNetwork({
      brokerPort: opts.portBase,
      proxies: PROXY_IDS.map((id, i) => ({ id, port: opts.portBase + 1 + i })),
      natsUrl: process.env.NATS_URL || undefined,
      natsSecurity: opts.secureNats || undefined,
      pkiDir: files?.caDir,
      log: true,
      // Samply.Beam's socket example lists socket requests without parameters and expects to wait for one;
      // `curl localhost:8080/metrics` works on the demo as on the proxies.
      extraEnv: { proxy: { SOCKET_LIST_WAIT: 'beam' }, 'broker-api': { METRICS_AUTH: 'none' } },
    });
  } finally {
    process.off('SIGINT', abort).off('SIGTERM', abort);
  }
}

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

function banner(net: DevNetwork, envFile: string | undefined): string {
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
    ['broker-store', net.brokerStoreUrls[0], '(its /metrics and /v1/health; every service has /metrics)'],
    ...net.proxies.map((p) => [p.id, `http://localhost:${p.port}`, `(apps ${DEV_DEFAULTS.apps.map((a) => a.label).join(', ')})`]),
    ['NATS', net.natsUrl, natsNote(net)],
    ['CA', dirname(net.pki.rootCertFile), '(the demo\'s CA: "beamline pki sign" uses it)'],
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
    ...(envFile ? [`Every "beamline" command finds NATS and the CA in ${envFile}.`, ''] : []),
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}
