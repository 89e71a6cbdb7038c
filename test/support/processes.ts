/** What tests observe of the processes they started: alive or not, and how much memory they hold. */
import { readFileSync } from 'node:fs';
import type { DevNetwork } from '@beamline/devnet';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resident memory of `pid` in MB (from /proc). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** Runs `work` while sampling every service's RSS each 100 ms; returns its value and the peak per service. */
export async function withPeakRss<T>(net: DevNetwork, work: () => Promise<T>): Promise<{ value: T; peaks: Record<string, number> }> {
  const peaks: Record<string, number> = {};
  const sample = (): void => {
    for (const s of net.services.values()) peaks[s.name] = Math.max(peaks[s.name] ?? 0, rssMb(s.pid));
  };
  sample();
  const timer = setInterval(sample, 100);
  try {
    return { value: await work(), peaks };
  } finally {
    clearInterval(timer);
    sample();
  }
}
