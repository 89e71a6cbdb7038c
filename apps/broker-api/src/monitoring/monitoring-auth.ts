import { Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { countAuthFailure } from '@beamline/http';
import { checkMonitoringAuth, MONITORING_CHALLENGE } from './basic-auth';

const logger = new Logger('Monitoring');

/**
 * The monitoring API's gate (`/v1/health/proxies`, `/metrics`): answers 501 (no `MONITORING_API_KEY`
 * configured) or 401 (missing, malformed or wrong credentials) itself, counting the refusal; true when
 * authorised.
 */
export function authoriseMonitoring(apiKey: string | undefined, req: Request, res: Response): boolean {
  if (apiKey === undefined) {
    res.status(501).json({ error: 'monitoring_disabled', message: 'monitoring: the broker was started without MONITORING_API_KEY' });
    return false;
  }
  const result = checkMonitoringAuth(req.headers.authorization, apiKey);
  if (result === 'ok') return true;
  const message =
    result === 'missing'
      ? 'authorization: required (Basic, empty user, MONITORING_API_KEY as password)'
      : result === 'malformed'
        ? 'authorization: expected Basic base64(":" + MONITORING_API_KEY)'
        : 'authorization: wrong monitoring credentials';
  countAuthFailure(`monitoring_${result}`);
  logger.warn({ reason: `monitoring_${result}` }, `${req.method} ${req.path}: authentication refused (${message})`);
  // Written here rather than thrown: the shared error mapping would announce the apps' ApiKey scheme.
  res.status(401).setHeader('WWW-Authenticate', MONITORING_CHALLENGE).json({ error: 'unauthenticated', message });
  return false;
}
