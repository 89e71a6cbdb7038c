import { Controller, Get, Header, Param } from '@nestjs/common';
import { NotFound } from '@beamline/domain';
import { CertificateRegistry, type DirectoryEntry } from './certificate-registry';

/** The certificate directory proxies use. Certificates are public; no authentication. */
@Controller('v1/pki/certs')
export class PkiController {
  constructor(private readonly registry: CertificateRegistry) {}

  @Get()
  list(): DirectoryEntry[] {
    return this.registry.entries();
  }

  @Get('im-ca')
  @Header('Content-Type', 'application/x-pem-file')
  intermediate(): string {
    const pem = this.registry.intermediate;
    if (!pem) throw new NotFound('no intermediate CA has been published');
    return pem;
  }

  @Get('by_serial/:serial')
  @Header('Content-Type', 'application/x-pem-file')
  bySerial(@Param('serial') serial: string): string {
    const pem = this.registry.pemBySerial(serial.toLowerCase());
    if (!pem) throw new NotFound(`certificate ${serial}: not found`);
    return pem;
  }
}
