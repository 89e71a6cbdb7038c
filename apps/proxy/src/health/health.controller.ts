import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { beamlineVersion } from '@beamline/http';
import { ProxyIdentity } from '../broker/proxy-identity';
import { ControlConnection } from '../control/control-connection';
import { CertificateDirectory } from '../pki/certificate-directory';
import { ApiHealth } from '../openapi/route-docs';
import { ApiTags } from '@nestjs/swagger';

/**
 * 200 once the proxy is ready (its own certificate was found in the broker's directory), 503 before. The
 * control connection's state is reported in the body only: like Samply.Beam's, the proxy is healthy once
 * initialised, whether or not the broker currently sees it.
 */
@Controller('v1/health')
@ApiTags('health')
export class HealthController {
  constructor(
    private readonly directory: CertificateDirectory,
    private readonly control: ControlConnection,
    private readonly identity: ProxyIdentity,
  ) {}

  @Get()
  @ApiHealth()
  health(@Res() res: Response): void {
    const ready = this.directory.ready;
    const pki = this.directory.pkiState;
    res.status(ready ? 200 : 503).json({
      summary: ready ? 'healthy' : 'starting',
      version: beamlineVersion(),
      certificate: this.identity.serial ?? null,
      control: this.control.state,
      pki: { revoked_certificates: pki.revoked, held_events: pki.held, dropped_events: pki.dropped },
    });
  }
}
