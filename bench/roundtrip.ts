/**
 * bench/roundtrip — N task round trips on a dev network started for the run: app1 posts a task, app2
 * long-polls its todo list, answers, app1 long-polls the result. Prints p50/p99 latency and round trips/s,
 * beside in-run baselines: the private-key operations on the path timed alone (the crypto floor), a raw
 * JetStream publish+ack, and a raw HTTP round trip to a bare Node server.
 *
 *   npm run build && node dist/bench/roundtrip.js [--n 200] [--concurrency 1] [--body-bytes 1024]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { BeamClient } from '@beamline/client';
import { generateRsaKeyPair, openBody, sealBody, signMessage, signRequest } from '@beamline/crypto';
import { startDevNetwork, startRoundRobin } from '@beamline/devnet';
import { connectNats } from '@beamline/nats';

interface Options {
  n: number;
  concurrency: number;
  bodyBytes: number;
  /** Also compare 1 and 2 broker-api replicas. */
  replicas: boolean;
}

type BrokerAuth = 'session' | 'signature';

function parseArgs(argv: string[]): Options {
  const opts: Options = { n: 200, concurrency: 1, bodyBytes: 1024, replicas: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--help' || flag === '-h') {
      console.log('usage: node dist/bench/roundtrip.js [--n 200] [--concurrency 1] [--body-bytes 1024] [--replicas]');
      process.exit(0);
    }
    if (flag === '--replicas') {
      opts.replicas = true;
      continue;
    }
    const key = ({ '--n': 'n', '--concurrency': 'concurrency', '--body-bytes': 'bodyBytes' } as const)[flag as '--n'];
    if (!key || !/^\d+$/.test(value ?? '')) throw new Error(`unknown or incomplete argument: ${flag}`);
    opts[key] = Number(value);
    i++;
  }
  return opts;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** One round trip through @beamline/client, as an app would make it: post, poll the todo list, answer, poll the result. */
async function roundTrip(p1: string, p2: string, worker: string, body: string): Promise<number> {
  const app1 = new BeamClient('app1.proxy1.broker', 'App1Secret', p1, { retries: 0 });
  const app2 = new BeamClient(worker, 'App1Secret', p2, { retries: 0 });
  const started = performance.now();
  const { id } = await app1.postTask({ to: [worker], body, failure_strategy: 'discard' });
  let task: { id: string; body: string } | undefined;
  while (!task) task = (await app2.pollPendingTasks({ waitCount: 1, waitTimeMs: 10_000 })).find((t) => t.id === id);
  await app2.putResult({ task: id, to: [app1.appId], status: 'succeeded', body: task.body.length.toString() });
  const results = await app1.pollResults(id, { waitCount: 1, waitTimeMs: 10_000 });
  if (results.length === 0) throw new Error('results: none within 10 s');
  return performance.now() - started;
}

/**
 * The private-key operations one round trip performs, timed alone: 2 message signatures and 2 key unwraps,
 * plus, without sessions, 4 request signatures (with sessions those are HMACs, not counted).
 */
async function cryptoFloorMs(iterations: number, bodyBytes: number, auth: BrokerAuth): Promise<number> {
  const { privateKey, publicKey } = generateRsaKeyPair(2048);
  const signer = { privateKey, kid: 'bench', proxyId: 'proxy1.broker' };
  const binding = { kind: 'task', taskId: '00000000-0000-4000-8000-000000000000', from: 'app1.proxy1.broker', to: ['app2.proxy2.broker'] } as const;
  const sealed = sealBody('x'.repeat(bodyBytes), [publicKey], binding);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) {
    await signMessage({ i }, privateKey, 'bench'); // task
    await signMessage({ i }, privateKey, 'bench'); // result
    if (auth === 'signature') for (let r = 0; r < 4; r++) await signRequest({ method: 'GET', pathAndQuery: `/v1/tasks?${i}` }, signer); // POST, GET todo, PUT, GET results
    openBody(sealed, 0, privateKey, binding); // task at app2
    openBody(sealed, 0, privateKey, binding); // result at app1
  }
  return (performance.now() - started) / iterations;
}

async function rawNatsMs(natsUrl: string, iterations: number, bodyBytes: number): Promise<number> {
  const nc = await connectNats(natsUrl, 'bench');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH', subjects: ['bench.>'] });
  const js = jetstream(nc);
  const data = new Uint8Array(bodyBytes);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await js.publish('bench.x', data);
  const ms = (performance.now() - started) / iterations;
  await jsm.streams.delete('BENCH');
  await nc.close();
  return ms;
}

async function rawHttpMs(iterations: number): Promise<number> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('[]'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await (await fetch(url)).text();
  const ms = (performance.now() - started) / iterations;
  await new Promise((r) => server.close(r));
  return ms;
}

interface Run {
  auth: BrokerAuth;
  latencies: number[];
  elapsedMs: number;
  workers: number;
  natsUrl: string;
}

async function measure(opts: Options, auth: BrokerAuth, brokerApiReplicas = 1): Promise<Run & { natsMs: number }> {
  const net = await startDevNetwork({
    log: false,
    extraEnv: { proxy: { BROKER_AUTH: auth } },
    brokerApiReplicas,
    // Several replicas sit behind a round-robin front (bench and test tooling, not part of the product).
    brokerFront: (urls) => startRoundRobin(urls),
  });
  try {
    const [p1, p2] = net.proxies.map((p) => p.url);
    const body = 'b'.repeat(opts.bodyBytes);
    for (let i = 0; i < 10; i++) await roundTrip(p1, p2, 'app2.proxy2.broker', body); // warm-up
    const latencies: number[] = [];
    const started = performance.now();
    let next = 0;
    // Each concurrent worker uses its own app so long-polls do not steal each other's tasks.
    const workers = ['app2.proxy2.broker', 'app1.proxy2.broker'].slice(0, Math.max(1, Math.min(opts.concurrency, 2)));
    await Promise.all(
      workers.map(async (worker) => {
        while (next < opts.n) {
          next++;
          latencies.push(await roundTrip(p1, p2, worker, body));
        }
      }),
    );
    const elapsedMs = performance.now() - started;
    latencies.sort((a, b) => a - b);
    const natsMs = await rawNatsMs(net.natsUrl, 500, opts.bodyBytes);
    return { auth, latencies, elapsedMs, workers: workers.length, natsUrl: net.natsUrl, natsMs };
  } finally {
    await net.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const runs = [await measure(opts, 'signature'), await measure(opts, 'session')];
  const http = await rawHttpMs(500);
  const fmt = (ms: number) => `${ms.toFixed(2)} ms`;
  console.log(`round trips per run: ${opts.n}, body: ${opts.bodyBytes} B (a round trip = 4 app requests, 2 appends)`);
  for (const run of runs) {
    const p50 = percentile(run.latencies, 50);
    const p99 = percentile(run.latencies, 99);
    const floor = await cryptoFloorMs(50, opts.bodyBytes, run.auth);
    console.log(`\nproxy → broker authentication: ${run.auth === 'session' ? 'session MAC (default)' : 'a signature per request'}`);
    console.log(`  p50 / p99 latency   ${fmt(p50)} / ${fmt(p99)}`);
    console.log(
      `  throughput          ${((run.latencies.length / run.elapsedMs) * 1000).toFixed(1)} round trips/s (${run.workers} worker${run.workers > 1 ? 's' : ''})`,
    );
    console.log(`  crypto floor        ${fmt(floor)} per round trip, timed alone        p50/floor = ${(p50 / floor).toFixed(1)}x`);
    console.log(`  raw JetStream ack   ${fmt(run.natsMs)} per publish                  p50/(2 acks) = ${(p50 / (2 * run.natsMs)).toFixed(1)}x`);
    console.log(`  raw HTTP            ${fmt(http)} per request                   p50/(4 requests) = ${(p50 / (4 * http)).toFixed(1)}x`);
  }
  const [sig, ses] = runs.map((r) => percentile(r.latencies, 50));
  console.log(
    `\nsessions vs signatures: p50 ${fmt(ses)} vs ${fmt(sig)} (${((1 - ses / sig) * 100).toFixed(0)}% less), private-key operations per round trip 4 vs 8`,
  );
  if (opts.replicas) {
    // Scale-out: the same load (2 workers) against 1 and 2 broker-api replicas, in this run.
    const scaled = { ...opts, concurrency: 2 };
    const one = await measure(scaled, 'session', 1);
    const two = await measure(scaled, 'session', 2);
    console.log('\nbroker-api replicas (session MAC, 2 workers):');
    for (const [n, run] of [
      [1, one],
      [2, two],
    ] as const) {
      const rate = (run.latencies.length / run.elapsedMs) * 1000;
      console.log(
        `  ${n} replica${n > 1 ? 's' : ' '}  ${rate.toFixed(1)} round trips/s (${(rate * 2).toFixed(1)} tasks+results/s), p50 ${fmt(percentile(run.latencies, 50))}, p99 ${fmt(percentile(run.latencies, 99))}`,
      );
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
