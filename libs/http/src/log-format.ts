/**
 * How log lines look: JSON lines for a log pipeline (pino's own output), or one readable line per entry for a
 * person at a terminal. `LOG_FORMAT` picks; unset, a terminal gets `pretty` and anything else (a file, a
 * pipe, a container's log driver) gets `json`.
 */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function logFormatText(raw: string): LogFormat {
  if (!(LOG_FORMATS as readonly string[]).includes(raw)) throw new Error(`expected "json" or "pretty", got ${JSON.stringify(raw)}`);
  return raw as LogFormat;
}

export function resolveLogFormat(format: LogFormat | undefined, stdoutIsTerminal: boolean = process.stdout.isTTY === true): LogFormat {
  return format ?? (stdoutIsTerminal ? 'pretty' : 'json');
}

/** Fields every pretty line shows in its own place rather than as `key=value`. */
const PLACED = new Set(['time', 'level', 'msg', 'context', 'service', 'pid', 'hostname', 'err']);

/**
 * One pino JSON line as `12:00:01.234 WARN  [HTTP] message key=value …`, with an error's stack on the lines
 * below. No colours: the same text reads the same in a terminal and in a file.
 */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : new Date().toISOString().slice(11, 23);
  const level = String(entry.level ?? 'info')
    .toUpperCase()
    .padEnd(5);
  const context = `[${String(entry.context ?? entry.service ?? '-')}]`;
  const extras = Object.entries(entry)
    .filter(([k]) => !PLACED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const err = entry.err as { stack?: string; message?: string } | undefined;
  const stack = err ? `\n${err.stack ?? err.message ?? ''}` : '';
  return `${time} ${level} ${context} ${String(entry.msg ?? '')}${extras.length > 0 ? ` ${extras.join(' ')}` : ''}${stack}\n`;
}
