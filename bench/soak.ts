/**
 * bench/soak — steady load through the demo topology for a long time, watching for growth and failures:
 * `--writers` loops (app1 posts a task for app2, app2 fetches and answers it, app1 long-polls the result)
 * while `--waiters` todo long-polls of app2 stay open (`wait_count=1000&wait_time=30s`, re-issued when
 * answered), so every write wakes every waiter. Every 10 s it samples the RSS and open file descriptors of
 * every process, the broker's health and how far BEAM_AUDIT lags behind BEAM_EVENTS.
 *
 * Passes (exit 0) when, after the warm-up, memory and descriptors grew < 10 %, no request failed, health
 * never said `healthy` while reads were failing, and the audit copy kept up (so purges were never postponed).
 *
 *   npm run build && node dist/bench/soak.js [--minutes 10] [--writers 32] [--waiters 1000] [--warmup-minutes 3] [--profile DIR]
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startDevNetwork, type DevNetwork } from '@beamline/devnet';
import { auditWatermark } from '@beamline/audit';
import { connectNats, EVENTS_STREAM } from '@beamline/nats';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';

interface Options {
  minutes: number;
  writers: number;
  waiters: number;
  warmupMinutes: number;
  /** Profile every service (bench/cpu-profile-hook) over the run after the warm-up, into this folder. */
  profileDir?: string;
}

const APP1 = 'app1.proxy1.broker';
const APP2 = 'app2.proxy2.broker';
const SAMPLE_MS = 10_000;
const HEALTH_MS = 2_000;
/**
 * The broker remembers every request nonce for 2 × MAX_CLOCK_SKEW + 1 min (replay protection), so
 * nats-server's memory grows by design for that long before it levels off: 11 minutes with the default
 * skew. The soak allows 1 minute of skew, so that window (3 minutes) ends within the warm-up.
 */
const SOAK_CLOCK_SKEW = '1m';

function parseArgs(argv: string[]): Options {
  const opts: Options = { minutes: 10, writers: 32, waiters: 1000, warmupMinutes: 3 };
  const flags: Record<string, Exclude<keyof Options, 'profileDir'>> = {
    '--minutes': 'minutes',
    '--writers': 'writers',
    '--waiters': 'waiters',
    '--warmup-minutes': 'warmupMinutes',
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node dist/bench/soak.js [--minutes 10] [--writers 32] [--waiters 1000] [--warmup-minutes 3] [--profile DIR]');
      process.exit(0);
    }
    if (argv[i] === '--profile') {
      opts.profileDir = resolve(argv[i + 1] ?? '.');
      continue;
    }
    const key = flags[argv[i]];
    if (!key || !/^\d+(\.\d+)?$/.test(argv[i + 1] ?? '')) throw new Error(`unknown or incomplete argument: ${argv[i]}`);
    opts[key] = Number(argv[i + 1]);
  }
  return opts;
}

class Counters {
  roundTrips = 0;
  latencies: number[] = [];
  polls = 0;
  failures: { at: number; what: string }[] = [];

  fail(what: string): void {
    this.failures.push({ at: Date.now(), what });
    if (this.failures.length <= 20) console.log(`  FAILED ${new Date().toISOString()} ${what}`);
  }
}

async function call(url: string, app: string, method = 'GET', body?: unknown, signal?: AbortSignal): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `ApiKey ${app} App1Secret`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal,
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

async function roundTrip(p1: string, p2: string, c: Counters): Promise<void> {
  const started = performance.now();
  const id = randomUUID();
  const task = { id, from: APP1, to: [APP2], body: 'b'.repeat(1024), failure_strategy: 'discard', ttl: '60s', metadata: null };
  const steps: [string, () => Promise<{ status: number; text: string }>, number[]][] = [
    ['POST task', () => call(`${p1}/v1/tasks`, APP1, 'POST', task), [201]],
    ['GET task', () => call(`${p2}/v1/tasks/${id}`, APP2), [200]],
    [
      'PUT result',
      () => call(`${p2}/v1/tasks/${id}/results/${APP2}`, APP2, 'PUT', { from: APP2, to: [APP1], task: id, status: 'succeeded', body: 'done', metadata: null }),
      [201],
    ],
    ['GET results', () => call(`${p1}/v1/tasks/${id}/results?wait_count=1&wait_time=30s`, APP1), [200]],
  ];
  for (const [what, step, ok] of steps) {
    try {
      const res = await step();
      if (!ok.includes(res.status)) return c.fail(`${what}: ${res.status} ${res.text.slice(0, 200)}`);
    } catch (err) {
      return c.fail(`${what}: ${(err as Error).message}`);
    }
  }
  c.roundTrips++;
  c.latencies.push(performance.now() - started);
}

async function waiter(p2: string, c: Counters, until: number): Promise<void> {
  while (Date.now() < until) {
    try {
      const res = await call(`${p2}/v1/tasks?filter=todo&wait_count=1000&wait_time=30s`, APP2, 'GET', undefined, AbortSignal.timeout(90_000));
      if (res.status !== 200 && res.status !== 206) c.fail(`todo long-poll: ${res.status} ${res.text.slice(0, 200)}`);
      else c.polls++;
    } catch (err) {
      c.fail(`todo long-poll: ${(err as Error).message}`);
    }
  }
}

interface Sample {
  at: number;
  roundTrips: number;
  polls: number;
  failures: number;
  p50: number;
  p99: number;
  rss: Record<string, number>;
  fds: Record<string, number>;
  /** CPU seconds each process used in the window. */
  cpu: Record<string, number>;
  auditLag: number;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** CPU seconds (user + system) `pid` has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

function processes(net: DevNetwork): [string, number][] {
  const list: [string, number][] = [...net.services.values()].map((s) => [s.name, s.pid]);
  if (net.nats) list.push(['nats-server', net.nats.pid]);
  return list;
}

/** What JetStream holds at the end: nats-server's memory follows messages and, above all, distinct subjects. */
async function printStreams(jsm: JetStreamManager): Promise<void> {
  console.log('\nstreams at the end');
  for await (const info of jsm.streams.list()) {
    const st = info.state;
    console.log(
      `  ${info.config.name.padEnd(22)} ${String(st.messages).padStart(8)} messages ${(st.bytes / 1e6).toFixed(1).padStart(8)} MB ${String(st.num_subjects ?? '?').padStart(8)} subjects ${String(st.num_deleted ?? 0).padStart(8)} deleted`,
    );
  }
}

/** BEAM_EVENTS messages not yet copied to BEAM_AUDIT. */
async function auditLag(jsm: JetStreamManager): Promise<number> {
  const last = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
  return last - ((await auditWatermark(jsm)) ?? 0);
}

/** Restarts (the first time) or writes (the second time) each service's profile: bench/cpu-profile-hook. */
function signalServices(net: DevNetwork): void {
  for (const s of net.services.values()) process.kill(s.pid, 'SIGWINCH');
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const profile: Record<string, string> = opts.profileDir
    ? { NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile-hook.js')}`, BEAMLINE_PROFILE_DIR: opts.profileDir }
    : {};
  const net = await startDevNetwork({
    log: false,
    extraEnv: {
      proxy: { LOG_LEVEL: 'warn', MAX_WAITING_PER_APP: String(Math.max(100, opts.waiters + opts.writers)), ...profile },
      'broker-api': { LOG_LEVEL: 'warn', MAX_CLOCK_SKEW: SOAK_CLOCK_SKEW, ...profile },
      'broker-store': profile,
    },
  });
  // Ctrl-C stops the network too, rather than leaving its processes behind.
  process.once('SIGINT', () => void net.stop().finally(() => process.exit(130)));
  const nc = await connectNats(net.natsUrl, 'soak');
  const jsm = await jetstreamManager(nc);
  const [p1, p2] = net.proxies.map((p) => p.url);
  const c = new Counters();
  const started = Date.now();
  const until = started + opts.minutes * 60_000;
  const samples: Sample[] = [];
  const health: { at: number; summary: string }[] = [];
  console.log(`soak: ${opts.minutes} min, ${opts.writers} writers, ${opts.waiters} waiting todo long-polls; samples every ${SAMPLE_MS / 1000} s`);
  try {
    const waiters = Array.from({ length: opts.waiters }, () => waiter(p2, c, until));
    const writers = Array.from({ length: opts.writers }, async () => {
      while (Date.now() < until) await roundTrip(p1, p2, c);
    });
    const healthTimer = setInterval(() => {
      void fetch(`${net.brokerUrl}/v1/health`)
        .then(async (r) => health.push({ at: Date.now(), summary: ((await r.json()) as { summary: string }).summary }))
        .catch(() => health.push({ at: Date.now(), summary: 'unreachable' }));
    }, HEALTH_MS);
    let last = { roundTrips: 0, polls: 0, failures: 0, latencies: 0 };
    let lastCpu: Record<string, number> = Object.fromEntries(processes(net).map(([n, pid]) => [n, cpuSeconds(pid)]));
    const sampler = setInterval(() => {
      void (async () => {
        const lat = c.latencies.slice(last.latencies).sort((a, b) => a - b);
        const sample: Sample = {
          at: Date.now() - started,
          roundTrips: c.roundTrips - last.roundTrips,
          polls: c.polls - last.polls,
          failures: c.failures.length - last.failures,
          p50: percentile(lat, 50),
          p99: percentile(lat, 99),
          rss: Object.fromEntries(processes(net).map(([n, pid]) => [n, rssMb(pid)])),
          fds: Object.fromEntries(processes(net).map(([n, pid]) => [n, fdCount(pid)])),
          cpu: {},
          auditLag: await auditLag(jsm).catch(() => NaN),
        };
        const cpuNow = Object.fromEntries(processes(net).map(([n, pid]) => [n, cpuSeconds(pid)]));
        sample.cpu = Object.fromEntries(Object.entries(cpuNow).map(([n, v]) => [n, v - (lastCpu[n] ?? 0)]));
        lastCpu = cpuNow;
        last = { roundTrips: c.roundTrips, polls: c.polls, failures: c.failures.length, latencies: c.latencies.length };
        samples.push(sample);
        const rss = Object.entries(sample.rss)
          .map(([n, v]) => `${n}=${v.toFixed(0)}`)
          .join(' ');
        const fds = Object.entries(sample.fds)
          .map(([n, v]) => `${n}=${v}`)
          .join(' ');
        const cpu = Object.entries(sample.cpu)
          .map(([n, v]) => `${n}=${((v / (SAMPLE_MS / 1000)) * 100).toFixed(0)}%`)
          .join(' ');
        console.log(
          `${(sample.at / 1000).toFixed(0).padStart(4)}s  ${(sample.roundTrips / (SAMPLE_MS / 1000)).toFixed(1).padStart(6)} rt/s  p50 ${sample.p50.toFixed(0)} ms p99 ${sample.p99.toFixed(0)} ms  polls ${sample.polls}  failed ${sample.failures}  audit lag ${sample.auditLag}  RSS MB ${rss}  fds ${fds}  CPU ${cpu}`,
        );
      })();
    }, SAMPLE_MS);
    const profiler = opts.profileDir ? setTimeout(() => signalServices(net), opts.warmupMinutes * 60_000) : undefined;
    await Promise.all([...writers, ...waiters]);
    if (profiler) {
      clearTimeout(profiler);
      signalServices(net);
      await new Promise((r) => setTimeout(r, 2_000));
      console.log(`profiles in ${opts.profileDir}: ${[...net.services.values()].map((s) => `${s.name}=${s.pid}`).join(' ')}`);
    }
    clearInterval(sampler);
    clearInterval(healthTimer);
    await printStreams(jsm);
    // Samples taken while the load wound down (waiters finishing their last poll) say nothing about growth.
    samples.splice(0, samples.length, ...samples.filter((s) => s.at <= opts.minutes * 60_000 + 1_000));
  } finally {
    await nc.close();
    await net.stop();
  }
  process.exit(verdict(opts, c, samples, health) ? 0 : 1);
}

/** Prints the summary; true when every criterion holds. */
function verdict(opts: Options, c: Counters, samples: Sample[], health: { at: number; summary: string }[]): boolean {
  const warm = samples.filter((s) => s.at >= opts.warmupMinutes * 60_000);
  // The peak of the last third of the samples after the warm-up against the peak of the first third: a heap
  // saws up and down by a quarter between collections, so single samples say little; a leak lifts the peaks.
  const third = Math.max(1, Math.floor(warm.length / 3));
  const head = warm.slice(0, third);
  const tail = warm.slice(-third);
  const peak = (list: Sample[], pick: (s: Sample) => Record<string, number>, n: string): number => Math.max(...list.map((s) => pick(s)[n]));
  const growth = (pick: (s: Sample) => Record<string, number>): Record<string, number> =>
    Object.fromEntries(Object.keys(pick(warm[0])).map((n) => [n, peak(tail, pick, n) / peak(head, pick, n) - 1]));
  const rssGrowth = growth((s) => s.rss);
  const fdGrowth = growth((s) => s.fds);
  // Health must not say healthy while reads fail: a failure at T and a 'healthy' answer within (T+2s, T+20s).
  const falseHealthy = c.failures.filter((f) => health.some((h) => h.at > f.at + 2_000 && h.at < f.at + 20_000 && h.summary === 'healthy')).length;
  const maxAuditLag = Math.max(...warm.map((s) => s.auditLag));
  const all = c.latencies.slice().sort((a, b) => a - b);
  const pct = (g: Record<string, number>) =>
    Object.entries(g)
      .map(([n, v]) => `${n} ${(v * 100).toFixed(1)}%`)
      .join(', ');
  console.log('\nsummary');
  console.log(
    `  round trips        ${c.roundTrips} (${(c.roundTrips / (opts.minutes * 60)).toFixed(1)}/s), p50 ${percentile(all, 50).toFixed(0)} ms, p99 ${percentile(all, 99).toFixed(0)} ms`,
  );
  console.log(`  long-polls answered ${c.polls}`);
  console.log(`  failed requests    ${c.failures.length}`);
  console.log(`  RSS growth after warm-up (${opts.warmupMinutes} min; peak of the last third vs the first): ${pct(rssGrowth)}`);
  console.log(`  fd growth after warm-up (likewise): ${pct(fdGrowth)}`);
  console.log(`  health 'healthy' while reads failed: ${falseHealthy}; health answers: ${countBy(health.map((h) => h.summary))}`);
  console.log(`  max audit lag after warm-up: ${maxAuditLag} events`);
  const ok =
    c.failures.length === 0 &&
    Object.values(rssGrowth).every((g) => g < 0.1) &&
    Object.values(fdGrowth).every((g) => g < 0.1) &&
    falseHealthy === 0 &&
    maxAuditLag < 1_000;
  console.log(ok ? 'PASS' : 'FAIL');
  return ok;
}

function countBy(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k}=${n}`).join(' ');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
