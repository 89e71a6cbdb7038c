import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { CertificateDirectory } from '../pki/certificate-directory';

/** 200 once the proxy is ready (its own certificate was found in the broker's directory), 503 before. */
@Controller('v1/health')
export class HealthController {
  constructor(private readonly directory: CertificateDirectory) {}

  @Get()
  health(@Res() res: Response): void {
    const ready = this.directory.ready;
    res.status(ready ? 200 : 503).json({ summary: ready ? 'healthy' : 'starting' });
  }
}
