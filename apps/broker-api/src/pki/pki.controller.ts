import { Controller, Get, Header, Param, Query } from '@nestjs/common';
import { InvalidInput, NotFound } from '@beamline/domain';
import { CertificateRegistry, type DirectoryEntry, type SignedPkiEvent } from './certificate-registry';

/**
 * The certificate directory. Certificates are public; no authentication. `GET /v1/pki/events` is what
 * Beamline proxies use: the CA-signed events themselves, which they verify against their pinned root; the
 * listings below are the broker's own verdict, kept for Beam tools and operators.
 */
@Controller('v1/pki')
export class PkiEventsController {
  constructor(private readonly registry: CertificateRegistry) {}

  @Get('events')
  events(@Query('after') after?: string): { events: SignedPkiEvent[] } {
    const afterSeq = after === undefined ? 0 : Number(after);
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0)
      throw new InvalidInput(`after: expected a stream sequence (integer ≥ 0), got ${JSON.stringify(after)}`);
    return { events: this.registry.signedEventsAfter(afterSeq) };
  }
}

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
