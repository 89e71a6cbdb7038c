/**
 * The monitoring API's credentials: `Authorization: Basic base64(":" + MONITORING_API_KEY)` — an empty
 * user name and the key as password, compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export type MonitoringAuthResult = 'ok' | 'missing' | 'malformed' | 'wrong';

export const MONITORING_REALM = 'beamline-monitoring';
export const MONITORING_CHALLENGE = `Basic realm="${MONITORING_REALM}"`;

export function checkMonitoringAuth(header: string | undefined, apiKey: string): MonitoringAuthResult {
  if (header === undefined || header.trim() === '') return 'missing';
  const m = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header);
  if (!m) return 'malformed';
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'malformed';
  const user = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  // Both sides hashed to a fixed length first, so neither the comparison nor its length leaks the key.
  const same = timingSafeEqual(sha256(password), sha256(apiKey));
  return same && user === '' ? 'ok' : 'wrong';
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
