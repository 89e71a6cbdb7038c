/**
 * bench/audit-copy — how many events per second the audit copier copies from BEAM_EVENTS to BEAM_AUDIT,
 * one copy at a time (publish, wait for the ack: how the copier worked before it pipelined) and with the
 * default window of copies in flight: once over a log already written, once while the log is being written
 * (concurrent appends, as several broker-api requests write at once), where it shows how far the copy
 * falls behind. A fresh nats-server is started for the run.
 *
 *   npm run build && node dist/bench/audit-copy.js [--n 10000] [--event-bytes 2048]
 */
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { AuditCopyPipeline, auditWatermark, DEFAULT_COPY_WINDOW, type CopyWindowLimits } from '@beamline/audit';
import { startNatsServer } from '@beamline/devnet';
import { AUDIT_STREAM, auditStreamConfig, connectNats, DEFAULT_STREAM_OPTIONS, ensureStreams, EVENTS_STREAM, subjects } from '@beamline/nats';

const WRITERS = 16;
const LOAD_SECONDS = 5;
/** How the copier worked before it pipelined: one publish, then wait for its acknowledgement. */
const SERIAL: CopyWindowLimits = { maxCopies: 1, maxBytes: DEFAULT_COPY_WINDOW.maxBytes };

function parseArgs(argv: string[]): { n: number; eventBytes: number } {
  const opts = { n: 10_000, eventBytes: 2048 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = ({ '--n': 'n', '--event-bytes': 'eventBytes' } as const)[argv[i] as '--n'];
    if (!key || !/^\d+$/.test(argv[i + 1] ?? '')) throw new Error(`usage: node dist/bench/audit-copy.js [--n 10000] [--event-bytes 2048]`);
    opts[key] = Number(argv[i + 1]);
  }
  return opts;
}

/** Appends `n` events with WRITERS publishes in flight; returns the last sequence and events per second. */
async function writeLog(nc: NatsConnection, n: number, eventBytes: number): Promise<{ lastSeq: number; perSecond: number }> {
  const js = jetstream(nc);
  const data = new Uint8Array(eventBytes).fill(42);
  let next = 0;
  let lastSeq = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (next < n) {
        next++;
        lastSeq = Math.max(lastSeq, (await js.publish(subjects.taskCreated(randomUUID()), data)).seq);
      }
    }),
  );
  return { lastSeq, perSecond: n / ((performance.now() - started) / 1000) };
}

/** Empties BEAM_AUDIT. */
async function resetAudit(jsm: JetStreamManager): Promise<void> {
  await jsm.streams.delete(AUDIT_STREAM);
  await jsm.streams.add(auditStreamConfig(DEFAULT_STREAM_OPTIONS));
}

/**
 * Copies while the log is written to for `seconds` (WRITERS appends in flight); returns the write and copy
 * rates over that time and how far the copy was behind when the writing stopped.
 */
async function copyUnderLoad(
  nc: NatsConnection,
  jsm: JetStreamManager,
  seconds: number,
  eventBytes: number,
  limits: CopyWindowLimits,
): Promise<{ written: number; copied: number; behind: number }> {
  await jsm.streams.delete(EVENTS_STREAM);
  await ensureStreams(jsm, DEFAULT_STREAM_OPTIONS);
  await resetAudit(jsm);
  const stop = new AbortController();
  const run = new AuditCopyPipeline(nc, { window: limits }).copyUntil(stop.signal);
  const js = jetstream(nc);
  const data = new Uint8Array(eventBytes).fill(42);
  const until = performance.now() + seconds * 1000;
  let lastSeq = 0;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < until) lastSeq = Math.max(lastSeq, (await js.publish(subjects.taskCreated(randomUUID()), data)).seq);
    }),
  );
  const watermark = (await auditWatermark(jsm)) ?? 0;
  stop.abort();
  await run;
  return { written: lastSeq / seconds, copied: watermark / seconds, behind: lastSeq - watermark };
}

/** Copies the whole log into an emptied BEAM_AUDIT; returns copies per second. */
async function copyAll(nc: NatsConnection, jsm: JetStreamManager, lastSeq: number, limits: CopyWindowLimits): Promise<number> {
  await resetAudit(jsm);
  const stop = new AbortController();
  const started = performance.now();
  const run = new AuditCopyPipeline(nc, { window: limits }).copyUntil(stop.signal);
  while (((await auditWatermark(jsm)) ?? 0) < lastSeq) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - started) / 1000;
  stop.abort();
  await run;
  return lastSeq / seconds;
}

async function main(): Promise<void> {
  const { n, eventBytes } = parseArgs(process.argv.slice(2));
  const server = await startNatsServer();
  const nc = await connectNats(server.url, 'bench-audit-copy');
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, DEFAULT_STREAM_OPTIONS);
    const written = await writeLog(nc, n, eventBytes);
    const serial = await copyAll(nc, jsm, written.lastSeq, SERIAL);
    const pipelined = await copyAll(nc, jsm, written.lastSeq, DEFAULT_COPY_WINDOW);
    const serialUnderLoad = await copyUnderLoad(nc, jsm, LOAD_SECONDS, eventBytes, SERIAL);
    const pipelinedUnderLoad = await copyUnderLoad(nc, jsm, LOAD_SECONDS, eventBytes, DEFAULT_COPY_WINDOW);
    const rate = (perSecond: number): string => `${Math.round(perSecond)}/s`;
    console.log(`events of ${eventBytes} bytes; the log written with ${WRITERS} appends in flight\n`);
    console.log('| copier | copying a written log of ' + n + ' | while the log is written for ' + LOAD_SECONDS + ' s: written, copied, behind at the end |');
    console.log('|---|---|---|');
    console.log(
      `| one copy at a time (publish, await ack) | ${rate(serial)} | ${rate(serialUnderLoad.written)}, ${rate(serialUnderLoad.copied)}, ${serialUnderLoad.behind} |`,
    );
    console.log(
      `| pipelined (up to ${DEFAULT_COPY_WINDOW.maxCopies} in flight) | ${rate(pipelined)} | ${rate(pipelinedUnderLoad.written)}, ${rate(pipelinedUnderLoad.copied)}, ${pipelinedUnderLoad.behind} |`,
    );
    console.log(`\n(the log alone was written at ${rate(written.perSecond)})`);
  } finally {
    await nc.close();
    await server.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
