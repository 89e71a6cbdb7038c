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
import { authoriseMonitoring } from './monitoring-auth';

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

  private authorised(req: Request, res: Response): boolean {
    return authoriseMonitoring(this.apiKey, req, res);
  }

  private async read<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw new BrokerUnavailable(`presence store (NATS KV) unavailable: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
}
