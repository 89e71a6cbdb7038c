import { PkiLog } from '@beamline/nats';
import { loadCa, loadDirectory, normaliseSerial, PkiError, publishRevocation } from '@beamline/pki';
import type { PkiSubcommand } from './pki-common';
import { DEFAULT_NATS_URL, natsUrlOf, optionalString, withNats, caDirOf } from './pki-common';

const USAGE = `Usage: beamline pki revoke SERIAL --ca-dir DIR [--reason TEXT] [--nats-url URL]

Run by the CA's administrator. Publishes a CertificateRevoked event for the certificate SERIAL (hex, as
"beamline pki list" shows it; colons and upper case are accepted), signed by the intermediate CA. The
broker and the proxies stop accepting the certificate within a minute. The certificate must be in the
directory; revoking it twice changes nothing.

Options:
  --ca-dir DIR           the CA directory made by "beamline pki init" (default $BEAMLINE_CA_DIR, else
                         the running demo's, from .beamline/demo.env)
  --reason TEXT          why (recorded in the event, shown by "beamline pki list --json")
  --nats-url URL         NATS server(s), comma-separated (default $NATS_URL, else the running demo's,
                         else ${DEFAULT_NATS_URL})
  -h, --help             show this help

Example:
  beamline pki revoke 3f0c5e2d9a7b41c8a0e1f2d3c4b5a697 --ca-dir /secure/beamline-ca --reason "key compromised"
`;

export const pkiRevoke: PkiSubcommand = {
  name: 'revoke',
  summary: 'at the CA: revoke a certificate by serial',
  usage: USAGE,
  options: { 'ca-dir': { type: 'string' }, reason: { type: 'string' }, 'nats-url': { type: 'string' } },
  positionals: [1, 1],
  async run(args, io) {
    const serial = normaliseSerial(args.positionals[0]);
    const caDir = caDirOf(args);
    const reason = optionalString(args, 'reason');
    const natsUrl = natsUrlOf(args);
    const ca = loadCa(caDir);
    const message = await withNats(natsUrl, async (nc) => {
      const log = await PkiLog.open(nc);
      const { directory } = await loadDirectory(nc, { rootCertPem: ca.rootCertPem });
      const cert = directory.get(serial);
      if (!cert) throw new PkiError('not_found', `certificate ${serial} is not in the directory at ${natsUrl}`);
      if (directory.isRevoked(serial)) return `Certificate ${serial} (${cert.commonName}) was already revoked.`;
      const result = await publishRevocation(log, ca, serial, { reason });
      return `Revoked certificate ${serial} (${cert.commonName})${reason ? `: ${reason}` : ''} (event #${result.seq}).`;
    });
    io.out(`${message}\n`);
    return 0;
  },
};
