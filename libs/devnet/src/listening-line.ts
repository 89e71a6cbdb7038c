/**
 * Reads the line Beamline's HTTP apps print once they listen (`listening on http://127.0.0.1:43127`, written
 * by `listeningLine` in libs/http): how a service started on port 0 tells us the port the OS gave it. With
 * JSON logs (`LOG_FORMAT=json`, the default when stdout is not a terminal) that text is the `msg` of a JSON
 * line. `undefined` for any other line.
 */
export function parseListeningLine(line: string): { url: string; host: string; port: number } | undefined {
  if (line.startsWith('{')) return parseListeningLine(jsonMessage(line) ?? '');
  const m = /^listening on (http:\/\/(\[[0-9A-Fa-f:.]+\]|[^\s/:[\]]+):(\d{1,5}))$/.exec(line);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  return { url: m[1], host: m[2], port };
}

function jsonMessage(line: string): string | undefined {
  try {
    const msg = (JSON.parse(line) as { msg?: unknown }).msg;
    return typeof msg === 'string' && !msg.startsWith('{') ? msg : undefined;
  } catch {
    return undefined;
  }
}
