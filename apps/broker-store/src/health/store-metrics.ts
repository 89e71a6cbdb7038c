/** broker-store's counters, kept where the work is done (README, "Metrics"). */
import { Counter } from 'prom-client';
import { metricsRegistry } from '@beamline/http';

export const expirySweeps = new Counter({
  name: 'beamline_expiry_sweeps_total',
  help: 'Expiry sweeps the leader ran, by outcome (ok, failed)',
  labelNames: ['outcome'],
  registers: [metricsRegistry],
});

export const tasksExpired = new Counter({
  name: 'beamline_tasks_expired_total',
  help: 'Task generations the leader marked expired (TaskExpired appended)',
  registers: [metricsRegistry],
});
