import type { LogLevel } from '@nestjs/common';

const ORDER: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];
const ALIASES: Record<string, LogLevel> = { info: 'log', trace: 'verbose', warning: 'warn' };

/** Maps a `LOG_LEVEL` (Beam's `RUST_LOG`-style: error|warn|info|debug|trace) to Nest's enabled levels. */
export function logLevels(level: string | undefined): LogLevel[] {
  const name = (level ?? 'info').toLowerCase();
  const wanted = ALIASES[name] ?? (ORDER.includes(name as LogLevel) ? (name as LogLevel) : 'log');
  return ORDER.slice(0, ORDER.indexOf(wanted) + 1);
}
