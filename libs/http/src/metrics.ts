/**
 * Prometheus metrics (prom-client): one registry per process, the metrics every HTTP service has (requests,
 * waiting clients, refused authentications, Node's own), and the text a `/metrics` route answers. Each app
 * adds its own metrics to `metricsRegistry` (see README, "Metrics", for every name).
 */
import type { Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { onAuthenticationRefused } from './error.filter';
import type { AccessLine } from './request-log';
import { isWaitingRequest } from './waiting';

export const metricsRegistry = new Registry();
collectDefaultMetrics({ register: metricsRegistry });

const requests = new Counter({
  name: 'beamline_http_requests_total',
  help: 'HTTP requests answered, by method, route pattern and status (`aborted`: the client left first)',
  labelNames: ['method', 'route', 'status'],
  registers: [metricsRegistry],
});

const duration = new Histogram({
  name: 'beamline_http_request_duration_seconds',
  help: 'Time from a request to the end of its answer, by method, route pattern and status',
  labelNames: ['method', 'route', 'status'],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  registers: [metricsRegistry],
});

const waiting = new Gauge({
  name: 'beamline_waiting_requests',
  help: 'Requests holding their connection open right now: long-polls and Server-Sent Events streams',
  labelNames: ['kind'],
  registers: [metricsRegistry],
});

const authFailures = new Counter({
  name: 'beamline_auth_failures_total',
  help: 'Refused authentications, by reason (the error code answered with 401)',
  labelNames: ['reason'],
  registers: [metricsRegistry],
});
onAuthenticationRefused((reason) => authFailures.inc({ reason }));

/** Counts a refused authentication the error filter did not answer (e.g. the monitoring API's own 401). */
export function countAuthFailure(reason: string): void {
  authFailures.inc({ reason });
}

/** Counts a request that holds its connection open while it waits; returns what to call when it ends. */
export function countWaiting(req: Request): () => void {
  if (!isWaitingRequest(req)) return () => undefined;
  const kind = String(req.headers.accept ?? '').includes('text/event-stream') ? 'sse' : 'long_poll';
  waiting.inc({ kind });
  let ended = false;
  return () => {
    if (!ended) waiting.dec({ kind });
    ended = true;
  };
}

/** Records one answered request (the access line's figures). */
export function observeRequest(line: AccessLine): void {
  const labels = { method: line.method, route: line.route, status: line.completed ? String(line.status) : 'aborted' };
  requests.inc(labels);
  if (line.completed) duration.observe(labels, line.durationMs / 1000);
}

/** The registry in Prometheus' text format, and its content type. */
export async function metricsText(): Promise<{ contentType: string; text: string }> {
  return { contentType: metricsRegistry.contentType, text: await metricsRegistry.metrics() };
}

/** Answers a `/metrics` request with the registry. */
export async function sendMetrics(res: Response): Promise<void> {
  const { contentType, text } = await metricsText();
  // end(), not send(): Express would rewrite the content type prom-client gives.
  res.status(200).setHeader('Content-Type', contentType).end(text);
}

/**
 * A gauge whose value is read at each scrape (`read` returns it; undefined leaves it unset), e.g. NATS
 * connection state or projection lag. Registered again (replacing the old one) when an app is built twice
 * in one process, as tests do.
 */
export function scrapedGauge(name: string, help: string, read: () => Promise<number | undefined> | number | undefined): void {
  metricsRegistry.removeSingleMetric(name);
  new Gauge({
    name,
    help,
    registers: [metricsRegistry],
    async collect() {
      const value = await read();
      if (value === undefined || !Number.isFinite(value)) this.reset();
      else this.set(value);
    },
  });
}

/** A counter whose total is read at each scrape from a running count kept elsewhere (e.g. retransmitted bytes). */
export function scrapedCounter(name: string, help: string, read: () => number): void {
  metricsRegistry.removeSingleMetric(name);
  new Counter({
    name,
    help,
    registers: [metricsRegistry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
