import { PkiLog } from '@beamline/nats';
import { loadCa, loadDirectory, normaliseSerial, PkiError, publishIntermediate, publishIntermediateRetirement, rotateIntermediate } from '@beamline/pki';
import type { PkiSubcommand } from './pki-common';
import { DEFAULT_NATS_URL, integerOption, natsUrlOf, optionalString, UsageError, withNats, caDirOf } from './pki-common';

const USAGE = `Usage: beamline pki intermediate new --ca-dir DIR [--validity-days 3650] [--im-cn NAME] [--bits 4096] [--nats-url URL]
       beamline pki intermediate retire SERIAL --ca-dir DIR [--reason TEXT] [--nats-url URL]

Rotates the intermediate CA, with overlap. Run by the CA's administrator; both need the root key.

  new      creates a new intermediate signed by the root, makes it the one this CA directory issues with
           (the previous one is kept as im-<serial>.*.pem) and publishes it, signed by the root. Every
           certificate stays trusted: broker and proxies check each against the intermediate that issued
           it. Re-enrol proxies under the new one ("beamline pki sign") at your own pace.
  retire   publishes a root-signed retirement of intermediate SERIAL (as "beamline pki list" shows it).
           Broker and proxies then refuse every certificate it issued, within CERT_REFRESH (60 s). Final:
           a retired intermediate is never trusted again. The CA directory's current one cannot be retired.

Options:
  --ca-dir DIR           the CA directory made by "beamline pki init" (default $BEAMLINE_CA_DIR, else
                         the running demo's, from .beamline/demo.env)
  --validity-days N      new: validity of the new intermediate in days, at most the root's (default 3650)
  --im-cn NAME           new: its common name (default "Beamline Intermediate CA <date>")
  --bits N               new: RSA key size (default 4096)
  --reason TEXT          retire: why (recorded in the event)
  --nats-url URL         NATS server(s), comma-separated (default $NATS_URL, else the running demo's,
                         else ${DEFAULT_NATS_URL})
  -h, --help             show this help

Example:
  beamline pki intermediate new --ca-dir /secure/beamline-ca
  beamline pki intermediate retire 3f0c5e2d9a7b41c8a0e1f2d3c4b5a697 --ca-dir /secure/beamline-ca --reason "key compromised"
`;

export const pkiIntermediate: PkiSubcommand = {
  name: 'intermediate',
  summary: 'at the CA: rotate the intermediate CA (new) or retire an old one',
  usage: USAGE,
  options: {
    'ca-dir': { type: 'string' },
    'validity-days': { type: 'string' },
    'im-cn': { type: 'string' },
    bits: { type: 'string' },
    reason: { type: 'string' },
    'nats-url': { type: 'string' },
  },
  positionals: [1, 2],
  async run(args, io) {
    const [action, serial] = args.positionals;
    const caDir = caDirOf(args);
    const natsUrl = natsUrlOf(args);
    if (action === 'new') {
      if (serial !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(serial)}`);
      const opts = {
        validityDays: integerOption(args, 'validity-days', 3650, 1, 36500),
        imCn: optionalString(args, 'im-cn'),
        bits: integerOption(args, 'bits', 4096, 2048, 16384),
      };
      // Reach NATS before touching the CA directory: a rotation that cannot be published is not started.
      const message = await withNats(natsUrl, async (nc) => {
        const log = await PkiLog.open(nc);
        const previous = loadCa(caDir).im;
        const ca = rotateIntermediate(caDir, opts);
        const published = await publishIntermediate(log, ca);
        return [
          `New intermediate ${ca.im.commonName}, serial ${ca.im.serial}, valid until ${ca.im.notAfter.toISOString()} (event #${published.seq}).`,
          `The CA directory now issues with it; the previous one (${previous.serial}) stays trusted until retired:`,
          `  beamline pki intermediate retire ${previous.serial} --ca-dir ${caDir}`,
        ].join('\n');
      });
      io.out(`${message}\n`);
      return 0;
    }
    if (action !== 'retire') throw new UsageError(`unknown action ${JSON.stringify(action)}: expected "new" or "retire"`);
    if (serial === undefined) throw new UsageError('retire: missing argument SERIAL');
    const s = normaliseSerial(serial);
    const reason = optionalString(args, 'reason');
    const ca = loadCa(caDir);
    const message = await withNats(natsUrl, async (nc) => {
      const log = await PkiLog.open(nc);
      const { directory } = await loadDirectory(nc, { rootCertPem: ca.rootCertPem });
      const known = directory.intermediateListing().find((i) => i.serial === s);
      if (!known) throw new PkiError('not_found', `intermediate ${s} is not in the directory at ${natsUrl}`);
      if (known.status === 'retired') return `Intermediate ${s} (${known.commonName}) was already retired.`;
      const result = await publishIntermediateRetirement(log, ca, s, { reason });
      return `Retired intermediate ${s} (${known.commonName})${reason ? `: ${reason}` : ''} (event #${result.seq}).`;
    });
    io.out(`${message}\n`);
    return 0;
  },
};
