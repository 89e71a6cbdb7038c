/**
 * bench/scale — does the broker stay as fast with a million live tasks as with none, and how long does
 * broker-store take to rebuild them? On a dev network started for the run (quotas lifted, the log sized for
 * the run), beside the same run's baselines:
 *
 * 1. task creates at `--clients` for `--seconds` with no live tasks (app1 → proxy1 → broker-api → JetStream);
 * 2. `--live` real tasks (sealed for proxy2, signed with proxy1's key, as a proxy makes them) appended
 *    straight to the log (no HTTP per task: at the front door's rate a million would take an hour), for an
 *    app nobody polls; the rate of the projection keeping up is printed as it goes;
 * 3. the same creates again, with that many live tasks;
 * 4. broker-store restarted: the time until broker-api's health reports it applied the whole log, and its
 *    RSS then, against the stored size of the live tasks (BEAM_EVENTS bytes).
 *
 *   npm run build && node dist/bench/scale.js [--live 1000000] [--seconds 10] [--clients 64]
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { jetstreamManager } from '@nats-io/jetstream';
import { Agent, request } from 'undici';
import { auditWatermark } from '@beamline/audit';
import { appendSignedTasks, startDevNetwork, type DevNetwork } from '@beamline/devnet';
import { connectNats, EVENTS_STREAM } from '@beamline/nats';

interface Options {
  live: number;
  seconds: number;
  clients: number;
}

const APP1 = 'app1.proxy1.broker';
const APP2 = 'app2.proxy2.broker';
/** The seeded tasks' recipient: an app of proxy2 that no phase polls. */
const IDLE_APP = 'app3.proxy2.broker';
const BODY = 'b'.repeat(1024);
const SEED_BATCH = 20_000;

function parseArgs(argv: string[]): Options {
  const opts: Options = { live: 1_000_000, seconds: 10, clients: 64 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--help' || flag === '-h') {
      console.log('usage: node dist/bench/scale.js [--live 1000000] [--seconds 10] [--clients 64]');
      process.exit(0);
    }
    if (!/^\d+$/.test(value ?? '')) throw new Error(`${flag} needs a whole number (see --help)`);
    if (flag === '--live') opts.live = Number(value);
    else if (flag === '--seconds') opts.seconds = Number(value);
    else if (flag === '--clients') opts.clients = Number(value);
    else throw new Error(`unknown argument: ${flag} (see --help)`);
  }
  return opts;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function creates(dispatcher: Agent, proxyUrl: string, clients: number, seconds: number): Promise<{ perSecond: number; p50: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        const res = await request(`${proxyUrl}/v1/tasks`, {
          method: 'POST',
          body: JSON.stringify({ id: randomUUID(), from: APP1, to: [APP2], body: BODY, failure_strategy: 'discard', ttl: '1h', metadata: null }),
          headers: { authorization: `ApiKey ${APP1} App1Secret`, 'content-type': 'application/json' },
          dispatcher,
        });
        await res.body.text();
        if (res.statusCode !== 201) throw new Error(`task create answered ${res.statusCode}`);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / ((performance.now() - started) / 1000), p50: latencies[Math.floor(latencies.length / 2)] };
}

/** broker-api's health: the sequence broker-store applied, or undefined while no replica answers. */
async function appliedSeq(net: DevNetwork): Promise<number | undefined> {
  const res = await fetch(`${net.brokerUrl}/v1/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (!res) return undefined;
  return ((await res.json()) as { store?: { applied_seq?: number } }).store?.applied_seq;
}

function rssMb(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return kb ? Number(kb[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const dispatcher = new Agent({ pipelining: 1 });
  const gib = Math.ceil((opts.live * 4_000) / 2 ** 30) + 1;
  const net = await startDevNetwork({
    log: false,
    apps: ['app1', 'app2', 'app3'].map((label) => ({ label, key: 'App1Secret' })),
    storageEnv: { EVENTS_MAX_BYTES: `${gib}GiB`, AUDIT_MAX_BYTES: `${gib}GiB` },
    maxFileStore: 3 * gib * 2 ** 30,
    extraEnv: {
      proxy: { LOG_LEVEL: 'warn' },
      'broker-api': {
        LOG_LEVEL: 'warn',
        QUOTA_WRITE_RATE: '1000000',
        QUOTA_LIVE_TASKS: String(opts.live * 2),
        QUOTA_LIVE_BYTES: `${gib}GiB`,
        MAX_UPLOADS_PER_PROXY: String(opts.clients * 4),
      },
      'broker-store': { LOG_LEVEL: 'warn' },
    },
  });
  process.once('SIGINT', () => void net.stop().finally(() => process.exit(130)));
  const nc = await connectNats(net.natsUrl, 'bench-scale');
  const jsm = await jetstreamManager(nc);
  const proxy1 = net.proxies[0].url;
  try {
    console.log(`bench/scale: ${opts.live} live tasks, ${opts.clients} clients, ${opts.seconds} s per phase, ${new Date().toISOString()}, load ${load()}`);
    await creates(dispatcher, proxy1, 4, 2); // warm-up: sessions, certificates, JIT
    const empty = await creates(dispatcher, proxy1, opts.clients, opts.seconds);
    console.log(`creates with ~0 live tasks: ${empty.perSecond.toFixed(0)}/s, p50 ${empty.p50.toFixed(1)} ms`);

    const seedStarted = performance.now();
    for (let done = 0; done < opts.live;) {
      const count = Math.min(SEED_BATCH, opts.live - done);
      await appendSignedTasks(net, {
        senderProxy: 0,
        recipientProxy: 1,
        from: APP1,
        to: [IDLE_APP],
        count,
        body: () => BODY,
        ttlSeconds: 86_400,
        concurrency: 64,
      });
      done += count;
      const secs = (performance.now() - seedStarted) / 1000;
      const info = await jsm.streams.info(EVENTS_STREAM);
      console.log(
        `  seeded ${done} in ${secs.toFixed(0)} s (${(done / secs).toFixed(0)}/s); store applied ${(await appliedSeq(net)) ?? '?'} of ${info.state.last_seq}; ` +
          `BEAM_EVENTS ${(info.state.bytes / 2 ** 20).toFixed(0)} MiB; load ${load()}`,
      );
    }
    const info = await jsm.streams.info(EVENTS_STREAM);
    const lastSeq = info.state.last_seq;
    const waitStarted = performance.now();
    while (((await appliedSeq(net)) ?? 0) < lastSeq || ((await auditWatermark(jsm)) ?? 0) < lastSeq) await sleep(500);
    const storePid = net.services.get('broker-store')!.pid;
    console.log(
      `store and audit copy caught up ${((performance.now() - waitStarted) / 1000).toFixed(1)} s after the last append; broker-store RSS ${rssMb(storePid).toFixed(0)} MB`,
    );

    const full = await creates(dispatcher, proxy1, opts.clients, opts.seconds);
    console.log(
      `creates with ${opts.live} live tasks: ${full.perSecond.toFixed(0)}/s, p50 ${full.p50.toFixed(1)} ms = ${(full.perSecond / empty.perSecond).toFixed(2)}× the empty figure  [>= 0.8]`,
    );

    const after = await jsm.streams.info(EVENTS_STREAM);
    const store = net.services.get('broker-store')!;
    const restarted = performance.now();
    await store.restart();
    while (((await appliedSeq(net)) ?? 0) < after.state.last_seq) await sleep(100);
    const rebuildSeconds = (performance.now() - restarted) / 1000;
    await sleep(2_000);
    const rss = rssMb(store.pid);
    const sealedMb = after.state.bytes / 2 ** 20;
    console.log(
      `\nbroker-store restarted on ${after.state.messages} events (${sealedMb.toFixed(0)} MiB stored): caught up in ${rebuildSeconds.toFixed(1)} s  [<= 30 s]; ` +
        `RSS ${rss.toFixed(0)} MB = ${(rss / sealedMb).toFixed(2)}× the stored size  [<= 1.5×]; load ${load()}`,
    );
  } finally {
    await nc.close();
    await dispatcher.close();
    await net.stop();
  }
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
