/** Variables every HTTP component reads the same way: LOG_LEVEL, LOG_FORMAT, and URLs. */
import { setting } from '@beamline/config';
import { logFormatText } from './log-format';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'trace'] as const;

export const logEnv = {
  LOG_LEVEL: setting.oneOf(LOG_LEVELS, 'info', 'how much is logged: `error`, `warn`, `info`, `debug` or `trace`'),
  LOG_FORMAT: setting.optionalText(
    '`json` (one JSON object per line, for a log pipeline) or `pretty` (one readable line per entry)',
    logFormatText,
    '`pretty` when stdout is a terminal, else `json`',
  ),
};

/** An http(s) URL (`BROKER_URL`); a bare `host:port` is refused rather than read as a URL scheme. */
export function httpUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`not a URL: ${JSON.stringify(raw)}`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '')
    throw new Error(`expected an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  return raw;
}
