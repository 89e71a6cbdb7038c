/** The variable that says where NATS is, shared by broker-api, broker-store and the CLI's defaults. */
import { setting } from '@beamline/config';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

const SERVER = /^(?:(?:nats|tls):\/\/)?(?:[^\s:/@]+(?::[^\s:/@]*)?@)?(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/;

/** NATS servers, comma-separated: `nats://host:port`, `tls://host:port` or `host:port`; never an HTTP URL. */
export function parseNatsServers(raw: string): string {
  const servers = raw.split(',').map((s) => s.trim());
  const bad = servers.find((s) => !SERVER.test(s));
  if (bad !== undefined) throw new Error(`expected nats://host:port (comma-separated for several), got ${JSON.stringify(bad)}`);
  return servers.join(',');
}

export const natsEnv = {
  NATS_URL: setting.text(DEFAULT_NATS_URL, 'NATS servers, comma-separated (`nats://host:port`)', parseNatsServers),
};
