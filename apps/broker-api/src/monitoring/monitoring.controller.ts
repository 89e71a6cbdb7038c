/**
 * Broker monitoring (Samply.Beam's `/v1/health/proxies`), protected by `MONITORING_API_KEY` **[fix: Beam
 * forgot the auth]**: which proxies were ever seen, and whether one holds a control connection right now
 * (to any broker-api replica).
 */
import { Inject, Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BrokerUnavailable, InvalidInput, isValidBeamId, NotFound } from '@beamline/domain';
import { BROKER_CONFIG, type BrokerConfig } from '../config';
import { PresenceStore } from '../presence/presence-store';
import { checkMonitoringAuth, MONITORING_CHALLENGE } from './basic-auth';

@Controller('v1/health/proxies')
export class MonitoringController {
  private readonly apiKey: string | undefined;

  constructor(
    private readonly store: PresenceStore,
    @Inject(BROKER_CONFIG) config: BrokerConfig,
  ) {
    this.apiKey = config.monitoringApiKey;
  }

  @Get()
  async list(@Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.authorised(req, res)) return;
    res.status(200).json(await this.read(() => this.store.proxies()));
  }

  @Get(':proxy_id')
  async one(@Param('proxy_id') proxyId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    if (!this.authorised(req, res)) return;
    if (!isValidBeamId(proxyId)) throw new InvalidInput(`proxy_id: not a valid ProxyId: ${JSON.stringify(proxyId)}`, 'bad_proxy_id');
    const status = await this.read(() => this.store.status(proxyId));
    if (!status) throw new NotFound(`proxy ${proxyId}: never seen by this broker`, 'unknown_proxy');
    if (!status.connected) {
      res.status(503).json({ last_disconnect: new Date(status.lastDisconnect).toISOString() });
      return;
    }
    res.status(200).json({
      status: 'connected',
      proxy_id: proxyId,
      since: new Date(status.since).toISOString(),
      connections: status.connections,
      ...(status.record ? { first_seen: new Date(status.record.first_seen).toISOString(), last_seen: new Date(status.record.last_seen).toISOString() } : {}),
    });
  }

  /** Answers 501 (no key configured) or 401 (missing, malformed or wrong credentials) itself; true when authorised. */
  private authorised(req: Request, res: Response): boolean {
    if (this.apiKey === undefined) {
      res.status(501).json({ error: 'monitoring_disabled', message: 'monitoring: the broker was started without MONITORING_API_KEY' });
      return false;
    }
    const result = checkMonitoringAuth(req.headers.authorization, this.apiKey);
    if (result === 'ok') return true;
    const message =
      result === 'missing'
        ? 'authorization: required (Basic, empty user, MONITORING_API_KEY as password)'
        : result === 'malformed'
          ? 'authorization: expected Basic base64(":" + MONITORING_API_KEY)'
          : 'authorization: wrong monitoring credentials';
    // Written here rather than thrown: the shared error mapping would announce the apps' ApiKey scheme.
    res.status(401).setHeader('WWW-Authenticate', MONITORING_CHALLENGE).json({ error: 'unauthenticated', message });
    return false;
  }

  private async read<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new BrokerUnavailable(`presence store (NATS KV) unavailable: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
}
