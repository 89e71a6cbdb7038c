/** Parses Beam's `BIND_ADDR` (`host:port`, IPv6 as `[::1]:8081`). */
export function parseBindAddr(value: string, name = 'BIND_ADDR'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`${name}: expected host:port, got ${JSON.stringify(value)}`);
  return { host: m[1] ?? m[2], port };
}
