import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beamlineVersion } from '@beamline/http';
import type { ProxyConfig } from '../config';
import { BrokerClient } from './broker-client';
import { Egress } from './egress';
import type { BrokerSession } from './broker-session';
import type { ProxyIdentity } from './proxy-identity';

/** The proxy tells the broker its version and request id, and warns (once) when the broker runs another version. */
describe('BrokerClient and versions', () => {
  let server: Server;
  let seen: IncomingHttpHeaders[] = [];
  let client: BrokerClient;
  let egress: Egress;

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader('beamline-version', '9.9.9-other');
      res.setHeader('content-type', 'application/json');
      res.end('[]');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const config = {
      brokerUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      brokerTimeoutMs: 5_000,
      brokerRetryBudgetMs: 0,
      brokerAuth: 'session',
      egress: { noProxy: [], extraCas: [] },
    } as unknown as ProxyConfig;
    egress = new Egress(config);
    client = new BrokerClient({} as ProxyIdentity, {} as BrokerSession, egress, config);
  });
  afterAll(async () => {
    await egress.onApplicationShutdown();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends Beamline-Version and an X-Request-Id, and warns once about a broker of another version', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      seen = [];
      for (let i = 0; i < 3; i++) expect((await client.send('GET', '/v1/pki/events?after=0', undefined, { anonymous: true })).status).toBe(200);
      expect(seen.map((h) => h['beamline-version'])).toEqual([beamlineVersion(), beamlineVersion(), beamlineVersion()]);
      expect(seen.every((h) => /^[0-9a-f-]{36}$/.test(String(h['x-request-id'])))).toBe(true);
      expect(warn.mock.calls.map((c) => c[1] as string)).toEqual([`broker runs Beamline 9.9.9-other, this ${beamlineVersion()}`]);
    } finally {
      warn.mockRestore();
    }
  });
});
