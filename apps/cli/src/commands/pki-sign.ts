import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PkiLog } from '@beamline/nats';
import { loadCa, publishCertificate, publishIntermediate, signCsr } from '@beamline/pki';
import type { PkiSubcommand } from './pki-common';
import { DEFAULT_NATS_URL, integerOption, natsUrlOf, optionalString, requireString, withNats, caDirOf } from './pki-common';

const USAGE = `Usage: beamline pki sign CSR_FILE --proxy-id ID --ca-dir DIR [--validity-days 365] [--out FILE]
                         [--nats-url URL] [--no-publish]

Run by the CA's administrator. Checks the CSR (intact self-signature, RSA >= 2048 bits, CN exactly ID),
issues the proxy certificate with the intermediate CA and writes it to FILE (default <ID>.crt.pem; an
existing file is never overwritten). Then publishes to the BEAM_PKI stream, creating the streams if needed:
the intermediate (signed by the root; only if not yet published) and the certificate (signed by the
intermediate). The proxy starts working once its certificate is published.
Refuses a CA that is expired or not yet valid.

Options:
  --proxy-id ID          the proxy id the CSR must be for (required)
  --ca-dir DIR           the CA directory made by "beamline pki init" (default $BEAMLINE_CA_DIR, else
                         the running demo's, from .beamline/demo.env)
  --validity-days N      certificate validity in days (default 365; at most the intermediate's)
  --out FILE             where to write the certificate (default <ID>.crt.pem)
  --nats-url URL         NATS server(s), comma-separated (default $NATS_URL, else the running demo's,
                         else ${DEFAULT_NATS_URL})
  --no-publish           only write the certificate file; publish nothing
  -h, --help             show this help

Example:
  beamline pki sign proxy1.csr.pem --proxy-id proxy1.broker.example.org --ca-dir /secure/beamline-ca \\
    --nats-url nats://nats.example.org:4222
`;

export const pkiSign: PkiSubcommand = {
  name: 'sign',
  summary: 'at the CA: issue a certificate from a CSR and publish it to BEAM_PKI',
  usage: USAGE,
  options: {
    'proxy-id': { type: 'string' },
    'ca-dir': { type: 'string' },
    'validity-days': { type: 'string' },
    out: { type: 'string' },
    'nats-url': { type: 'string' },
    'no-publish': { type: 'boolean' },
  },
  positionals: [1, 1],
  async run(args, io) {
    const csrFile = resolve(args.positionals[0]);
    const proxyId = requireString(args, 'proxy-id');
    const caDir = caDirOf(args);
    const validityDays = integerOption(args, 'validity-days', 365, 1, 36500);
    const out = resolve(optionalString(args, 'out') ?? `${proxyId}.crt.pem`);
    const publish = args.values['no-publish'] !== true;
    const natsUrl = natsUrlOf(args);

    if (existsSync(out)) throw new Error(`${out} already exists; refusing to overwrite it (remove it or choose --out)`);
    let csrPem: string;
    try {
      csrPem = readFileSync(csrFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the CSR ${csrFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
    const ca = loadCa(caDir);
    const issued = signCsr(ca, csrPem, { proxyId, validityDays });

    let note = 'not published (--no-publish)';
    if (publish) {
      note = await withNats(natsUrl, async (nc) => {
        const log = await PkiLog.open(nc);
        const im = await publishIntermediate(log, ca);
        const cert = await publishCertificate(log, ca, issued.certPem);
        return `published to BEAM_PKI at ${natsUrl} (certificate #${cert.seq}; intermediate ${im.published ? `published #${im.seq}` : 'already published'})`;
      });
    }
    writeFileSync(out, issued.certPem, { flag: 'wx', mode: 0o644 });
    io.out(
      [
        `Signed ${issued.proxyId}`,
        `  serial       ${issued.serial}`,
        `  not before   ${issued.notBefore.toISOString()}`,
        `  not after    ${issued.notAfter.toISOString()}`,
        `  certificate  ${out}`,
        `  directory    ${note}`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
