/** broker-api's counters and histograms, kept where the work is done (README, "Metrics"). */
import { Counter, Histogram } from 'prom-client';
import { metricsRegistry } from '@beamline/http';

export const sessionsOpened = new Counter({
  name: 'beamline_sessions_opened_total',
  help: 'Proxy sessions opened (POST /v1/sessions answered 201)',
  registers: [metricsRegistry],
});

export const appendDuration = new Histogram({
  name: 'beamline_append_duration_seconds',
  help: 'Time JetStream took to acknowledge an append to BEAM_EVENTS, by outcome (appended, conflict, failed)',
  labelNames: ['outcome'],
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metricsRegistry],
});
