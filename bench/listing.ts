/**
 * bench/listing — how long listings of many live tasks take, at each hop, beside in-run baselines: N live
 * 1 KiB tasks (real, sealed and signed) are appended, then listed (1) straight from broker-api (what the
 * broker does: store query, log reads, streaming), (2) by their creator through its proxy (plus N signature
 * checks), (3) as the worker's todo list through its proxy (plus N key unwraps). Baselines: N direct gets
 * from JetStream, N RSA-PSS verifications and N RSA-OAEP unwraps, timed alone.
 *
 * With `--profile DIR`, every service runs under bench/cpu-profile-hook and writes `DIR/<pid>.cpuprofile`
 * covering the listings (pids are printed).
 *
 *   npm run build && node dist/bench/listing.js [--n 50000] [--profile DIR]
 */
import { constants, privateDecrypt, publicEncrypt, randomBytes, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { generateRsaKeyPair, privateKeyFromPem, signRequest } from '@beamline/crypto';
import { auditWatermark } from '@beamline/audit';
import { appendSignedTasks, startDevNetwork, type DevNetwork } from '@beamline/devnet';
import { connectNats, EVENTS_STREAM } from '@beamline/nats';

const APP1 = 'app1.proxy1.broker';
const APP2 = 'app2.proxy2.broker';

function parseArgs(argv: string[]): { n: number; profileDir?: string } {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log('usage: node dist/bench/listing.js [--n 50000] [--profile DIR]');
    process.exit(0);
  }
  const n = argv.indexOf('--n');
  const profile = argv.indexOf('--profile');
  return { n: n >= 0 ? Number(argv[n + 1]) : 50_000, profileDir: profile >= 0 ? resolve(argv[profile + 1]) : undefined };
}

/** Waits until BEAM_AUDIT has copied everything (the copier competes for the machine until then). */
async function auditCaughtUp(net: DevNetwork): Promise<void> {
  const nc = await connectNats(net.natsUrl, 'bench-listing-audit');
  const jsm = await jetstreamManager(nc);
  try {
    for (;;) {
      const last = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
      if (((await auditWatermark(jsm)) ?? 0) >= last) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await nc.close();
  }
}

function profileEnv(dir: string | undefined): Record<string, string> {
  return dir ? { NODE_OPTIONS: `--require ${join(__dirname, 'cpu-profile-hook.js')}`, BEAMLINE_PROFILE_DIR: dir } : {};
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

/** Lists straight from broker-api as proxy1 would (a signed request); counts the event lines. */
async function brokerListing(net: DevNetwork): Promise<number> {
  const p = net.pki.proxies[0];
  const pathAndQuery = `/v1/tasks?from=${APP1}&beam_app=${APP1}`;
  const authorization = await signRequest(
    { method: 'GET', pathAndQuery },
    { privateKey: privateKeyFromPem(readFileSync(p.keyFile, 'utf8')), kid: p.serial, proxyId: p.id },
  );
  const res = await fetch(net.brokerUrl + pathAndQuery, { headers: { authorization } });
  if (res.status !== 200) throw new Error(`broker answered ${res.status}`);
  let lines = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
  }
  return lines - 1; // the end line
}

async function proxyListing(url: string, app: string, query: string): Promise<number> {
  const res = await fetch(`${url}/v1/tasks?${query}`, { headers: { authorization: `ApiKey ${app} App1Secret` } });
  if (res.status !== 200) throw new Error(`proxy answered ${res.status}`);
  return ((await res.json()) as unknown[]).length;
}

async function directGets(net: DevNetwork, n: number): Promise<void> {
  const nc = await connectNats(net.natsUrl, 'bench-listing');
  const jsm = await jetstreamManager(nc);
  const first = (await jsm.streams.info(EVENTS_STREAM)).state.first_seq;
  let next = 0;
  await Promise.all(
    Array.from({ length: 128 }, async () => {
      while (next < n) await jsm.direct.getMessage(EVENTS_STREAM, { seq: first + next++ });
    }),
  );
  await nc.close();
}

async function verifications(n: number): Promise<void> {
  const { privateKey, publicKey } = generateRsaKeyPair(2048);
  const data = randomBytes(2_600);
  const opts = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
  const sig = sign('sha256', data, { key: privateKey, ...opts });
  const verifyAsync = promisify(verify);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next++ < n) await verifyAsync('sha256', data, { key: publicKey, ...opts }, sig);
    }),
  );
}

function unwraps(n: number): void {
  const { privateKey, publicKey } = generateRsaKeyPair(2048);
  const wrapped = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, randomBytes(32));
  for (let i = 0; i < n; i++) privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
}

async function main(): Promise<void> {
  const { n, profileDir } = parseArgs(process.argv.slice(2));
  const env = profileEnv(profileDir);
  const net = await startDevNetwork({ log: false, extraEnv: { proxy: env, 'broker-api': env, 'broker-store': env } });
  try {
    const appended = await timed(() =>
      appendSignedTasks(net, {
        senderProxy: 0,
        recipientProxy: 1,
        from: APP1,
        to: [APP2],
        count: n,
        ttlSeconds: 3_600,
        body: () => randomBytes(512).toString('hex'),
      }),
    );
    const audited = await timed(() => auditCaughtUp(net));
    console.log(`${n} live 1 KiB tasks appended in ${(appended.ms / 1000).toFixed(1)} s, copied to BEAM_AUDIT ${(audited.ms / 1000).toFixed(1)} s later\n`);
    // Profiles cover the listings only: the first SIGWINCH restarts them after the set-up.
    if (profileDir) for (const s of net.services.values()) process.kill(s.pid, 'SIGWINCH');
    const rows: [string, number, number][] = [];
    const gets = await timed(() => directGets(net, n));
    const verifies = await timed(() => verifications(n));
    const unwrapped = await timed(async () => unwraps(Math.min(n, 5_000)));
    const unwrapMs = (unwrapped.ms * n) / Math.min(n, 5_000);
    const broker = await timed(() => brokerListing(net));
    rows.push(['broker-api listing (store query, log reads, streaming)', broker.ms, broker.value]);
    const creator = await timed(() => proxyListing(net.proxies[0].url, APP1, `from=${APP1}`));
    rows.push(["creator's listing through proxy1", creator.ms, creator.value]);
    const worker = await timed(() => proxyListing(net.proxies[1].url, APP2, 'filter=todo'));
    rows.push(["worker's todo listing through proxy2", worker.ms, worker.value]);
    console.log(
      `baselines (same run): ${n} direct gets ${gets.ms.toFixed(0)} ms; ${n} RSA-PSS verifications ${verifies.ms.toFixed(0)} ms; ${n} RSA-OAEP unwraps ${unwrapMs.toFixed(0)} ms (extrapolated from ${Math.min(n, 5_000)})`,
    );
    for (const [what, ms, count] of rows) {
      console.log(`  ${what.padEnd(58)} ${ms.toFixed(0).padStart(7)} ms  ${String(count).padStart(7)} items  ${(ms / gets.ms).toFixed(2)}x the direct gets`);
    }
    console.log(`  creator's listing ÷ (direct gets + verifications): ${(creator.ms / (gets.ms + verifies.ms)).toFixed(2)}x`);
    console.log(`  worker's listing ÷ (direct gets + verifications + unwraps): ${(worker.ms / (gets.ms + verifies.ms + unwrapMs)).toFixed(2)}x`);
    if (profileDir) {
      for (const s of net.services.values()) process.kill(s.pid, 'SIGWINCH');
      await new Promise((r) => setTimeout(r, 2_000));
      console.log(`profiles in ${profileDir}: ${[...net.services.values()].map((s) => `${s.name}=${s.pid}`).join(' ')}`);
    }
  } finally {
    await net.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
