/**
 * bench/load — throughput of the write path on a dev network started for the run, beside baselines measured
 * in the same run on the same machine: a bare Node HTTP server (its own process) taking 1 KiB JSON POSTs from
 * 32 clients, raw JetStream publish+ack (file storage, expected-last-subject-sequence, 32 in flight), and
 * RSA-2048 PS256 signatures on one core (the one private-key operation a task costs its proxy).
 *
 * Then task creates (app → proxy1 → broker-api → JetStream) at each concurrency for `--seconds`, and result
 * PUTs for those tasks at the highest one, with the CPU each process spent per request. Then the wake-up
 * path: `--waiters` todo long-polls spread over the apps of proxies 2–4, all woken by one task (time from the
 * POST's answer to each poll's answer); and creates at 32 clients while 1,000 long-polls of the recipient
 * stay open, against the same with none. Prints one table: rates, latencies, and the ratios the performance
 * goals are stated in. Per-proxy quotas are lifted for the run: they would measure the quota, not the system.
 *
 *   npm run build && npm run bench:load -- [--seconds 10] [--concurrency 1,4,16,64] [--waiters 2000] [--cluster] [--replicas] [--profile DIR]
 *
 * `--cluster` then starts the network again on a 3-node JetStream cluster (R3 streams, all on this machine)
 * and measures creates at 1 client and at the highest concurrency there, against the single-node figures.
 * `--replicas` measures creates at the highest concurrency with one broker-api replica pinned to core 0 and
 * with two pinned to cores 0 and 1 (`taskset`), both behind the same round-robin front.
 *
 * `--profile DIR` runs every service under bench/cpu-profile-hook and writes `DIR/<pid>.cpuprofile` covering
 * the Beamline phases (not the baselines).
 */
import { execFileSync, spawn } from 'node:child_process';
import { constants, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Agent, request } from 'undici';
import { startDevNetwork, startRoundRobin, type DevNetwork } from '@beamline/devnet';
import { connectNats } from '@beamline/nats';

interface Options {
  seconds: number;
  concurrency: number[];
  /** Long-polls woken by one task (0: skip the wake-up phases). */
  waiters: number;
  /** Also measure creates on a 3-node JetStream cluster with R3 streams. */
  cluster: boolean;
  /** Also measure creates with 1 and 2 broker-api replicas, each pinned to its own core. */
  replicas: boolean;
  profileDir?: string;
}

const APP1 = 'app1.proxy1.broker';
const APP2 = 'app2.proxy2.broker';
const BODY = 'b'.repeat(1024);

function parseArgs(argv: string[]): Options {
  const opts: Options = { seconds: 10, concurrency: [1, 4, 16, 64], waiters: 2000, cluster: false, replicas: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--help' || flag === '-h') {
      console.log('usage: node dist/bench/load.js [--seconds 10] [--concurrency 1,4,16,64] [--waiters 2000] [--cluster] [--replicas] [--profile DIR]');
      process.exit(0);
    }
    if (flag === '--cluster' || flag === '--replicas') {
      opts[flag === '--cluster' ? 'cluster' : 'replicas'] = true;
      continue;
    } else if (flag === '--seconds' && /^\d+$/.test(value ?? '')) opts.seconds = Number(value);
    else if (flag === '--concurrency' && /^\d+(,\d+)*$/.test(value ?? '')) opts.concurrency = value.split(',').map(Number);
    else if (flag === '--waiters' && /^\d+$/.test(value ?? '')) opts.waiters = Number(value);
    else if (flag === '--profile' && value) opts.profileDir = value;
    else throw new Error(`unknown or incomplete argument: ${flag} (see --help)`);
    i++;
  }
  return opts;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Phase {
  count: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs `clients` loops of `op` for `seconds` (or until `op` returns false); counts successes and their latency. */
async function phase(clients: number, seconds: number, op: () => Promise<boolean>): Promise<Phase> {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        if (!(await op())) return;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { count: latencies.length, perSecond: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** A bare Node HTTP server in its own process (as the proxy has one), answering every POST with a small JSON. */
async function bareHttpBaseline(dispatcher: Agent, seconds: number): Promise<Phase> {
  const code = `
    const server = require('node:http').createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => { JSON.parse(Buffer.concat(chunks).toString()); res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}'); });
    });
    server.listen(0, '127.0.0.1', () => process.send(server.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const payload = JSON.stringify({ id: randomUUID(), body: BODY });
  try {
    return await phase(32, seconds, async () => {
      const res = await request(`http://127.0.0.1:${port}/`, { method: 'POST', body: payload, headers: { 'content-type': 'application/json' }, dispatcher });
      await res.body.text();
      return res.statusCode === 201;
    });
  } finally {
    child.kill();
  }
}

/** Raw JetStream publish+ack with expected-last-subject-sequence (what an append does), 32 in flight. */
async function rawJetStreamBaseline(natsUrl: string, seconds: number): Promise<Phase> {
  const nc = await connectNats(natsUrl, 'bench-load');
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'BENCH_LOAD', subjects: ['bench.load.>'] });
  const js = jetstream(nc);
  const data = new TextEncoder().encode(JSON.stringify({ body: BODY }));
  let n = 0;
  try {
    return await phase(32, seconds, async () => {
      await js.publish(`bench.load.${n++}`, data, { expect: { lastSubjectSequence: 0 } });
      return true;
    });
  } finally {
    await jsm.streams.delete('BENCH_LOAD');
    await nc.close();
  }
}

/** RSA-2048 PS256 signatures per second on this (one) thread. */
function rsaSignBaseline(seconds: number): number {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const data = Buffer.alloc(256, 1);
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  let n = 0;
  while (performance.now() < until) {
    sign('sha256', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    n++;
  }
  return n / ((performance.now() - started) / 1000);
}

async function startNetwork(opts: Options, natsCluster = false, brokerApiReplicas?: number): Promise<DevNetwork> {
  const profile: Record<string, string> = opts.profileDir
    ? { NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile-hook.js')}`, BEAMLINE_PROFILE_DIR: opts.profileDir }
    : {};
  const clients = String(Math.max(...opts.concurrency, 32) * 4);
  const waiting = String(Math.max(opts.waiters, 1000) + 100);
  return startDevNetwork({
    log: false,
    natsCluster: natsCluster || undefined,
    ...(brokerApiReplicas ? { brokerApiReplicas, brokerFront: (urls: string[]) => startRoundRobin(urls) } : {}),
    proxies: ['proxy1.broker', 'proxy2.broker', 'proxy3.broker', 'proxy4.broker'].map((id) => ({ id })),
    extraEnv: {
      proxy: { LOG_LEVEL: 'warn', MAX_WAITING_PER_APP: waiting, ...profile },
      'broker-api': {
        LOG_LEVEL: 'warn',
        QUOTA_WRITE_RATE: '1000000',
        QUOTA_LIVE_TASKS: '10000000',
        MAX_UPLOADS_PER_PROXY: clients,
        MAX_WAITING_PER_PROXY: waiting,
        ...profile,
      },
      'broker-store': { LOG_LEVEL: 'warn', ...profile },
    },
  });
}

type Call = (url: string, app: string, method: 'POST' | 'PUT', body: unknown) => Promise<number>;

function caller(dispatcher: Agent): Call {
  return async (url, app, method, body) => {
    const res = await request(url, {
      method,
      body: JSON.stringify(body),
      headers: { authorization: `ApiKey ${app} App1Secret`, 'content-type': 'application/json' },
      dispatcher,
    });
    await res.body.text();
    return res.statusCode;
  };
}

/** Posts a task from app1 of proxy1 (to app2 of proxy2 unless told), noting its id in `created`. */
function taskCreator(call: Call, proxy1Url: string, created: string[]): (to?: string[]) => Promise<boolean> {
  return async (to = [APP2]) => {
    const id = randomUUID();
    const status = await call(`${proxy1Url}/v1/tasks`, APP1, 'POST', {
      id,
      from: APP1,
      to,
      body: BODY,
      failure_strategy: 'discard',
      ttl: '1h',
      metadata: null,
    });
    if (status !== 201) throw new Error(`task create answered ${status}`);
    created.push(id);
    return true;
  };
}

/** Creates at 1 client and at `top` on a 3-node JetStream cluster with R3 streams. */
async function clusterCreates(opts: Options, dispatcher: Agent, top: number): Promise<{ one: Phase; top: Phase }> {
  const net = await startNetwork(opts, true);
  try {
    const createTask = taskCreator(caller(dispatcher), net.proxies[0].url, []);
    await phase(4, 2, () => createTask());
    return { one: await phase(1, opts.seconds, () => createTask()), top: await phase(top, opts.seconds, () => createTask()) };
  } finally {
    await net.stop();
  }
}

/** Creates at `clients` with `replicas` broker-api replicas, replica i pinned to core i, behind a round-robin front. */
async function pinnedReplicas(opts: Options, dispatcher: Agent, clients: number, replicas: number): Promise<Phase> {
  const net = await startNetwork(opts, false, replicas);
  try {
    const apis = [...net.services.values()].filter((s) => s.name.startsWith('broker-api'));
    apis.forEach((api, core) => execFileSync('taskset', ['-a', '-p', '-c', String(core), String(api.pid)], { stdio: 'ignore' }));
    const createTask = taskCreator(caller(dispatcher), net.proxies[0].url, []);
    await phase(4, 2, () => createTask());
    return await phase(clients, opts.seconds, () => createTask());
  } finally {
    await net.stop();
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const dispatcher = new Agent({ pipelining: 1 });
  const net = await startNetwork(opts);
  process.once('SIGINT', () => void net.stop().finally(() => process.exit(130)));
  const [p1, p2] = net.proxies.map((p) => p.url);
  const call = caller(dispatcher);
  const created: string[] = [];
  const createTask = taskCreator(call, p1, created);
  const putResult = async (proxyUrl: string, app: string, task: string): Promise<void> => {
    const status = await call(`${proxyUrl}/v1/tasks/${task}/results/${app}`, app, 'PUT', {
      from: app,
      to: [APP1],
      task,
      status: 'succeeded',
      body: 'done',
      metadata: null,
    });
    if (status !== 201) throw new Error(`result PUT answered ${status}`);
  };
  /** A task for `w.app`, answered by it: the todo list stays short. */
  const createAndAnswer = async (w: { proxyUrl: string; app: string }): Promise<boolean> => {
    await createTask([w.app]);
    await putResult(w.proxyUrl, w.app, created.pop() as string);
    return true;
  };
  try {
    console.log(`bench/load: ${opts.seconds} s per phase, 1 KiB bodies, ${new Date().toISOString()}, load average ${loadAverage()}`);
    const http = await bareHttpBaseline(dispatcher, Math.min(opts.seconds, 5));
    const nats = await rawJetStreamBaseline(net.natsUrl, Math.min(opts.seconds, 5));
    const rsa = rsaSignBaseline(3);
    await phase(4, 2, () => createTask()); // warm-up: sessions, certificates, JIT
    if (opts.profileDir) signalServices(net);
    const creates = new Map<number, Phase>();
    let createCpu = '';
    for (const c of opts.concurrency) {
      const before = cpuOf(net);
      const p = await phase(c, opts.seconds, () => createTask());
      creates.set(c, p);
      createCpu = cpuBetween(before, cpuOf(net), 1000 / p.count, ' ms');
    }
    const top = Math.max(...opts.concurrency);
    const toAnswer = created.splice(0);
    const puts = await phase(top, opts.seconds, async () => {
      const task = toAnswer.pop();
      if (task === undefined) return false;
      await putResult(p2, APP2, task);
      return true;
    });
    const wake = opts.waiters > 0 ? await wakeAll(net, dispatcher, opts.waiters, createTask) : undefined;
    const underWaiters = opts.waiters > 0 ? await createsUnderWaiters(net, dispatcher, opts.seconds, createAndAnswer) : undefined;
    if (opts.profileDir) {
      signalServices(net);
      await new Promise((r) => setTimeout(r, 2_000));
      console.log(`profiles in ${opts.profileDir}: ${[...net.services.values()].map((s) => `${s.name}=${s.pid}`).join(' ')}`);
    }
    printTable(http, nats, rsa, creates, top, puts);
    console.log(`  CPU per create at ${top} clients: ${createCpu}`);
    if (wake) printWake(opts.waiters, wake);
    if (underWaiters) printUnderWaiters(underWaiters);
    if (opts.cluster || opts.replicas) await net.stop();
    if (opts.replicas) {
      const one = await pinnedReplicas(opts, dispatcher, top, 1);
      const two = await pinnedReplicas(opts, dispatcher, top, 2);
      console.log(`\nbroker-api replicas pinned to their own cores (taskset), behind a round-robin front, ${top} clients`);
      console.log(`  1 replica (core 0):      ${one.perSecond.toFixed(0)}/s, p50 ${one.p50.toFixed(1)} ms`);
      console.log(`  2 replicas (cores 0, 1): ${two.perSecond.toFixed(0)}/s, p50 ${two.p50.toFixed(1)} ms = ${(two.perSecond / one.perSecond).toFixed(2)}×`);
    }
    if (opts.cluster) {
      const cluster = await clusterCreates(opts, dispatcher, top);
      const single = creates.get(top) as Phase;
      console.log('\n3-node JetStream cluster, R3 streams (all on this machine)');
      console.log(`  creates, 1 client: ${cluster.one.perSecond.toFixed(0)}/s, p50 ${cluster.one.p50.toFixed(1)} ms`);
      console.log(
        `  creates, ${top} clients: ${cluster.top.perSecond.toFixed(0)}/s, p50 ${cluster.top.p50.toFixed(1)} ms = ${(cluster.top.perSecond / single.perSecond).toFixed(2)}× the single node  [>= 0.6]`,
      );
    }
  } finally {
    await dispatcher.close();
    await net.stop();
  }
}

interface Waiter {
  proxyUrl: string;
  app: string;
}

/**
 * `n` todo long-polls spread over the apps of proxies 2–4 with empty todo lists: not app2 of proxy2 (the
 * earlier phases' recipient) nor app2 of proxy4 (createsUnderWaiters').
 */
function waitersOver(net: DevNetwork, n: number): Waiter[] {
  const [, p2, p3, p4] = net.proxies;
  const places = [
    { proxyUrl: p2.url, app: `app1.${p2.id}` },
    { proxyUrl: p3.url, app: `app1.${p3.id}` },
    { proxyUrl: p3.url, app: `app2.${p3.id}` },
    { proxyUrl: p4.url, app: `app1.${p4.id}` },
  ];
  return Array.from({ length: n }, (_, i) => places[i % places.length]);
}

/** A todo long-poll of `w` (wait_count=1); resolves with the time its answer came, or the failure. */
async function poll(dispatcher: Agent, w: Waiter, waitSeconds: number): Promise<{ at: number; ok: boolean; status: number }> {
  try {
    const res = await request(`${w.proxyUrl}/v1/tasks?filter=todo&wait_count=1&wait_time=${waitSeconds}s`, {
      headers: { authorization: `ApiKey ${w.app} App1Secret` },
      dispatcher,
      headersTimeout: (waitSeconds + 30) * 1000,
      bodyTimeout: (waitSeconds + 30) * 1000,
    });
    const text = await res.body.text();
    return { at: performance.now(), ok: res.statusCode === 200 && text.length > 2, status: res.statusCode };
  } catch {
    return { at: performance.now(), ok: false, status: 0 };
  }
}

/** Once the proxies hold `n` waiting app requests between them (their `beamline_waiting_requests`), or throws. */
async function waitForWaiting(net: DevNetwork, n: number): Promise<void> {
  for (const until = Date.now() + 120_000; Date.now() < until;) {
    let waiting = 0;
    for (const p of net.proxies) {
      const metrics = await (await fetch(`${p.url}/metrics`)).text();
      for (const m of metrics.matchAll(/^beamline_waiting_requests\{[^}]*\} (\d+)$/gm)) waiting += Number(m[1]);
    }
    if (waiting >= n) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the proxies never held ${n} waiting requests`);
}

/** CPU seconds (user + system) `pid` has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Every process of the run, this one (the clients) included, with its CPU seconds so far. */
function cpuOf(net: DevNetwork): Map<string, number> {
  const list: [string, number][] = [...net.services.values()].map((s) => [s.name, s.pid]);
  if (net.nats) list.push(['nats-server', net.nats.pid]);
  list.push(['bench clients', process.pid]);
  return new Map(list.map(([name, pid]) => [name, cpuSeconds(pid)]));
}

/** What each process spent between two `cpuOf` snapshots, per `per` (e.g. ms per request). */
function cpuBetween(before: Map<string, number>, after: Map<string, number>, scale: number, unit: string): string {
  return [...after]
    .map(([name, s]) => [name, (s - (before.get(name) ?? 0)) * scale] as const)
    .filter(([, v]) => v > 0)
    .map(([name, v]) => `${name} ${v.toFixed(2)}${unit}`)
    .join(', ');
}

interface Wake {
  /** CPU each process spent from the POST to the last answer. */
  cpu: string;
  woken: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

/** `n` long-polls, then one task to all their apps: how long after the POST's answer each poll answers. */
async function wakeAll(net: DevNetwork, dispatcher: Agent, n: number, createTask: (to: string[]) => Promise<boolean>): Promise<Wake> {
  const waiters = waitersOver(net, n);
  const apps = [...new Map(waiters.map((w) => [w.app, w])).values()];
  const polls = waiters.map((w) => poll(dispatcher, w, 120));
  await waitForWaiting(net, n);
  const cpuBefore = cpuOf(net);
  await createTask(apps.map((w) => w.app));
  const answered = performance.now();
  const results = await Promise.all(polls);
  const cpu = cpuBetween(cpuBefore, cpuOf(net), 1, ' s');
  const delays = results
    .filter((r) => r.ok)
    .map((r) => r.at - answered)
    .sort((a, b) => a - b);
  return {
    cpu,
    woken: delays.length,
    failed: results.length - delays.length,
    p50: percentile(delays, 50),
    p99: percentile(delays, 99),
    max: delays[delays.length - 1],
  };
}

/**
 * 32 writers each create a task for app2 of proxy4 and answer it as that app (so its todo list stays short),
 * while 1,000 todo long-polls of that app stay open, against the same load with none. A poll that got tasks
 * waits a second before polling again, as an app busy with its task would; failed polls are counted.
 */
async function createsUnderWaiters(
  net: DevNetwork,
  dispatcher: Agent,
  seconds: number,
  cycle: (recipient: Waiter) => Promise<boolean>,
): Promise<{ alone: Phase; withWaiters: Phase; polls: number; failedPolls: number }> {
  const recipient: Waiter = { proxyUrl: net.proxies[3].url, app: `app2.${net.proxies[3].id}` };
  const alone = await phase(32, seconds, () => cycle(recipient));
  let stop = false;
  let polls = 0;
  let failedPolls = 0;
  const waiters = Array.from({ length: 1000 }, async () => {
    while (!stop) {
      const r = await poll(dispatcher, recipient, 5);
      polls++;
      if (r.status !== 200 && r.status !== 206) failedPolls++;
      else if (r.ok) await new Promise((done) => setTimeout(done, 1000));
    }
  });
  await waitForWaiting(net, 1000);
  const withWaiters = await phase(32, seconds, () => cycle(recipient));
  stop = true;
  await Promise.all(waiters);
  return { alone, withWaiters, polls, failedPolls };
}

function printWake(n: number, w: Wake): void {
  console.log(`\n${n} todo long-polls over 4 apps of 3 proxies, one task to all of them (after the POST's answer)`);
  console.log(`  woken ${w.woken}, failed ${w.failed}; p50 ${w.p50.toFixed(0)} ms, p99 ${w.p99.toFixed(0)} ms, max ${w.max.toFixed(0)} ms  [p99 <= 100 ms]`);
  console.log(`  CPU from the POST to the last answer: ${w.cpu}`);
}

function printUnderWaiters(u: { alone: Phase; withWaiters: Phase; polls: number; failedPolls: number }): void {
  console.log('\ncreate-and-answer cycles at 32 clients, with 1,000 todo long-polls of the recipient open vs none');
  console.log(
    `  ${u.withWaiters.perSecond.toFixed(0)} vs ${u.alone.perSecond.toFixed(0)} /s = ${(u.withWaiters.perSecond / u.alone.perSecond).toFixed(2)}  [>= 0.8]; polls answered ${u.polls}, failed ${u.failedPolls}  [0]`,
  );
}

function printTable(http: Phase, nats: Phase, rsa: number, creates: Map<number, Phase>, top: number, puts: Phase): void {
  const rate = (n: number) => n.toFixed(0).padStart(7);
  const ms = (n: number) => n.toFixed(1).padStart(6);
  console.log('\n| measure | per second | p50 ms | p99 ms |');
  console.log('|---|---:|---:|---:|');
  console.log(`| bare Node HTTP, 1 KiB JSON POST, 32 clients | ${rate(http.perSecond)} | ${ms(http.p50)} | ${ms(http.p99)} |`);
  console.log(`| raw JetStream publish+ack, 32 in flight | ${rate(nats.perSecond)} | ${ms(nats.p50)} | ${ms(nats.p99)} |`);
  console.log(`| RSA-2048 PS256 sign, one core | ${rate(rsa)} | | |`);
  for (const [c, p] of creates) console.log(`| task creates, ${c} client${c > 1 ? 's' : ''} | ${rate(p.perSecond)} | ${ms(p.p50)} | ${ms(p.p99)} |`);
  console.log(`| result PUTs, ${top} clients | ${rate(puts.perSecond)} | ${ms(puts.p50)} | ${ms(puts.p99)} |`);
  const atTop = creates.get(top) as Phase;
  console.log('\nratios (goal in brackets)');
  console.log(`  creates/s at ${top} clients / RSA signs/s   ${(atTop.perSecond / rsa).toFixed(3)}  [>= 0.4]`);
  console.log(`  result PUTs/s at ${top} clients / RSA signs/s ${(puts.perSecond / rsa).toFixed(3)}  [>= 0.4]`);
  console.log(`  creates/s at ${top} clients / bare HTTP        ${(atTop.perSecond / http.perSecond).toFixed(3)}`);
  console.log(`  creates/s at ${top} clients / raw JetStream    ${(atTop.perSecond / nats.perSecond).toFixed(3)}`);
}

function loadAverage(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
}

/** Restarts (the first time) or writes (the second time) each service's profile: bench/cpu-profile-hook. */
function signalServices(net: DevNetwork): void {
  for (const s of net.services.values()) process.kill(s.pid, 'SIGWINCH');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
