/**
 * bench/files — one file store-and-forward on a dev network started for the run: app1 uploads it while app2's
 * proxy is stopped (the recipient is offline), proxy2 starts again, app2 lists it and downloads it; both ends
 * checked by SHA-256, through @beamline/client. Every process's RSS is sampled during the transfer and printed as growth over its RSS
 * before. Beside it, same-run baselines for the same byte count: raw core-NATS publish/subscribe and a
 * Beamline direct socket (which needs both apps online).
 *
 *   npm run build && node dist/bench/files.js [--mb 1024]
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { BeamClient } from '@beamline/client';
import { startDevNetwork, type DevNetwork } from '@beamline/devnet';
import { BLOCK, beamlineSocket, rawNats } from './stream-baselines';

const APP1 = 'app1.proxy1.broker';
const APP2 = 'app2.proxy2.broker';

function parseArgs(argv: string[]): { mb: number } {
  if (argv[0] === '--help' || argv[0] === '-h') {
    console.log('usage: node dist/bench/files.js [--mb 1024]');
    process.exit(0);
  }
  if (argv.length === 0) return { mb: 1024 };
  if (argv[0] !== '--mb' || !/^\d+$/.test(argv[1] ?? '')) throw new Error(`unknown or incomplete argument: ${argv.join(' ')}`);
  return { mb: Number(argv[1]) };
}

/** Samples every service's RSS (MB) until stopped; answers the growth of each over its first sample. */
function rssGrowth(net: DevNetwork): { stop: () => Record<string, number> } {
  const first: Record<string, number> = {};
  const peak: Record<string, number> = {};
  const sample = (): void => {
    for (const s of net.services.values()) {
      let mb = NaN;
      try {
        mb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${s.pid}/status`, 'utf8'))?.[1]) / 1024;
      } catch {
        continue; // a stopped service
      }
      first[s.name] ??= mb;
      peak[s.name] = Math.max(peak[s.name] ?? 0, mb);
    }
  };
  sample();
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      return Object.fromEntries(Object.keys(peak).map((name) => [name, Math.round(peak[name] - first[name])]));
    },
  };
}

async function* fileBytes(mb: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < mb; i++) {
    const block = Buffer.from(BLOCK);
    block.writeUInt32BE(i, 0);
    hash.update(block);
    yield block;
  }
}

async function upload(net: DevNetwork, mb: number): Promise<{ id: string; seconds: number; sha: string }> {
  const app1 = new BeamClient(APP1, 'App1Secret', net.proxies[0].url);
  const hash = createHash('sha256');
  const started = process.hrtime.bigint();
  const { id } = await app1.sendFile(APP2, fileBytes(mb, hash));
  return { id, seconds: Number(process.hrtime.bigint() - started) / 1e9, sha: hash.digest('hex') };
}

async function download(app2: BeamClient, id: string): Promise<{ seconds: number; sha: string; bytes: number }> {
  const hash = createHash('sha256');
  const started = process.hrtime.bigint();
  let bytes = 0;
  for await (const piece of await app2.downloadFile(id)) {
    hash.update(piece as Buffer);
    bytes += (piece as Buffer).length;
  }
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, sha: hash.digest('hex'), bytes };
}

async function main(): Promise<void> {
  const { mb } = parseArgs(process.argv.slice(2));
  const room = `${Math.ceil((mb * 2.2) / 1024) + 1}GiB`;
  const net = await startDevNetwork({
    storageEnv: { BLOBS_MAX_BYTES: room, EVENTS_MAX_BYTES: '1GiB', AUDIT_MAX_BYTES: '1GiB' },
    extraEnv: { 'broker-api': { MAX_FILE_SIZE: room, QUOTA_LIVE_BYTES: room }, proxy: { MAX_FILE_SIZE: room } },
  });
  try {
    const nats = await rawNats(net.natsUrl, mb);
    const socket = await beamlineSocket(net, mb);
    const proxy2 = net.services.get('proxy2.broker') ?? net.services.get('proxy2');
    if (!proxy2) throw new Error(`no proxy2 among ${[...net.services.keys()].join(', ')}`);
    await proxy2.stop(); // app2's site is offline while app1 sends
    const uploading = rssGrowth(net);
    const up = await upload(net, mb);
    const upGrowth = uploading.stop();
    await proxy2.restart();
    const app2 = new BeamClient(APP2, 'App1Secret', net.proxies[1].url);
    const listed = (await app2.listFiles({ waitCount: 1, waitTimeMs: 30_000 })).some((f) => f.id === up.id);
    const downloading = rssGrowth(net); // from here: proxy2 is up and has served a listing
    const down = await download(app2, up.id);
    const downGrowth = downloading.stop();
    const growth = Object.fromEntries(
      [...new Set([...Object.keys(upGrowth), ...Object.keys(downGrowth)])].map((n) => [n, Math.max(upGrowth[n] ?? 0, downGrowth[n] ?? 0)]),
    );
    if (!listed || down.sha !== up.sha || down.bytes !== mb * BLOCK.length) throw new Error('the file did not arrive intact');
    const rate = (seconds: number): number => (mb * BLOCK.length) / 1e6 / seconds;
    console.log(`${mb} MiB file, app1 → app2 (app2's proxy offline during the upload); SHA-256 checked at both ends`);
    console.log(`  raw core NATS pub/sub        ${nats.toFixed(1).padStart(8)} MB/s`);
    console.log(`  Beamline direct socket       ${socket.toFixed(1).padStart(8)} MB/s`);
    console.log(
      `  file upload (seal + store)   ${rate(up.seconds).toFixed(1).padStart(8)} MB/s = ${(rate(up.seconds) / socket).toFixed(2)} × socket, ${(rate(up.seconds) / nats).toFixed(2)} × NATS`,
    );
    console.log(
      `  file download (fetch + open) ${rate(down.seconds).toFixed(1).padStart(8)} MB/s = ${(rate(down.seconds) / socket).toFixed(2)} × socket, ${(rate(down.seconds) / nats).toFixed(2)} × NATS`,
    );
    console.log(`  RSS growth during the upload or the download, the larger (MB): ${JSON.stringify(growth)}`);
  } finally {
    await net.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
