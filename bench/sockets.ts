/**
 * bench/sockets — one-way throughput of a direct socket (app1 → proxy1 → broker-api → NATS → broker-api →
 * proxy2 → app2, sealed in frames end to end) on a dev network started for the run, beside in-run
 * baselines for the same byte count: a raw TCP loopback stream, and raw core-NATS publish/subscribe of
 * 64 KiB messages (the relay's hop).
 *
 *   npm run build && node dist/bench/sockets.js [--mb 200] [--runs 3]
 */
import { startDevNetwork } from '@beamline/devnet';
import { beamlineSocket, median, rawNats, rawTcp } from './stream-baselines';

function parseArgs(argv: string[]): { mb: number; runs: number } {
  const opts = { mb: 200, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node dist/bench/sockets.js [--mb 200] [--runs 3]');
      process.exit(0);
    }
    const key = ({ '--mb': 'mb', '--runs': 'runs' } as const)[argv[i] as '--mb'];
    if (!key || !/^\d+$/.test(argv[i + 1] ?? '')) throw new Error(`unknown or incomplete argument: ${argv[i]}`);
    opts[key] = Number(argv[i + 1]);
  }
  return opts;
}

async function main(): Promise<void> {
  const { mb, runs } = parseArgs(process.argv.slice(2));
  const net = await startDevNetwork({});
  try {
    const results = { tcp: [] as number[], nats: [] as number[], socket: [] as number[] };
    for (let i = 0; i < runs; i++) {
      results.tcp.push(await rawTcp(mb));
      results.nats.push(await rawNats(net.natsUrl, mb));
      results.socket.push(await beamlineSocket(net, mb));
    }
    const [tcp, nats, socket] = [median(results.tcp), median(results.nats), median(results.socket)];
    console.log(`${mb} MiB one way, median of ${runs} runs (MB/s)`);
    console.log(`  raw TCP loopback         ${tcp.toFixed(1).padStart(8)}`);
    console.log(`  raw core NATS pub/sub    ${nats.toFixed(1).padStart(8)}`);
    console.log(`  Beamline direct socket   ${socket.toFixed(1).padStart(8)}   = ${(socket / tcp).toFixed(3)} × TCP, ${(socket / nats).toFixed(2)} × NATS`);
  } finally {
    await net.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
