/** Readers of one environment variable each, shared by the apps' configs; a bad value throws naming it. */

/** A positive integer, or `fallback` when unset or empty. */
export function envPositiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}
