import { readFileSync } from 'node:fs';
import { loadDirectory } from '@beamline/pki';
import type { PkiSubcommand } from './pki-common';
import { DEFAULT_NATS_URL, natsUrlOf, rootCertFileOf, withNats } from './pki-common';

const USAGE = `Usage: beamline pki list [--nats-url URL] [--json] [--intermediates] [--root-cert FILE | --ca-dir DIR]

Lists the certificate directory (the BEAM_PKI stream): the proxy certificates — serial, name (proxy id), not
before, not after and status: valid, expired, not_yet_valid, revoked, or untrusted (does not chain to an
unretired intermediate) — then the intermediate CAs, with status active, retired, expired or not_yet_valid.
With the pinned root (--root-cert, --ca-dir, or $ROOTCERT_FILE) only CA-signed events count, exactly as the
broker sees them; ignored events are reported on stderr. Without a root nothing is verified (noted on stderr).

Options:
  --nats-url URL         NATS server(s), comma-separated (default $NATS_URL, else the running demo's,
                         else ${DEFAULT_NATS_URL})
  --json                 print a JSON array of {serial, proxyId, notBefore, notAfter, status, ...} instead
  --intermediates        only the intermediate CAs (with --json: {serial, commonName, ..., status, retiredAt?})
  --root-cert FILE       the pinned root certificate to verify the events with (default $ROOTCERT_FILE,
                         else the running demo's)
  --ca-dir DIR           take the root certificate from a CA directory
  -h, --help             show this help

Example:
  beamline pki list --nats-url nats://nats.example.org:4222 --root-cert root.crt.pem
`;

export const pkiList: PkiSubcommand = {
  name: 'list',
  summary: 'list the certificates in the directory with their status',
  usage: USAGE,
  options: {
    'nats-url': { type: 'string' },
    json: { type: 'boolean' },
    intermediates: { type: 'boolean' },
    'root-cert': { type: 'string' },
    'ca-dir': { type: 'string' },
  },
  positionals: [0, 0],
  async run(args, io) {
    const natsUrl = natsUrlOf(args);
    const rootFile = rootCertFileOf(args);
    let rootCertPem: string | undefined;
    if (rootFile) {
      try {
        rootCertPem = readFileSync(rootFile, 'utf8');
      } catch (err) {
        throw new Error(`cannot read the root certificate ${rootFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
      }
    }
    const { directory, ignored } = await withNats(natsUrl, (nc) => loadDirectory(nc, { rootCertPem }));
    const rows = directory.listing();
    const intermediates = directory.intermediateListing().map(({ pem: _pem, ...rest }) => rest);
    if (!rootCertPem) io.err('note: no root certificate given (--root-cert, --ca-dir, $ROOTCERT_FILE): signatures and chains were not verified\n');
    for (const i of ignored) io.err(`note: ignored event #${i.seq} on ${i.subject}: ${i.reason}\n`);
    const onlyIntermediates = args.values.intermediates === true;
    if (args.values.json === true) {
      const list = onlyIntermediates ? intermediates : rows.map(({ pem: _pem, ...rest }) => rest);
      io.out(`${JSON.stringify(list, null, 2)}\n`);
      return 0;
    }
    const imTable = formatTable([
      ['INTERMEDIATE CA', 'NAME', 'NOT BEFORE', 'NOT AFTER', 'STATUS'],
      ...intermediates.map((r) => [r.serial, r.commonName, r.notBefore, r.notAfter, r.status]),
    ]);
    if (onlyIntermediates) {
      io.out(imTable);
      return 0;
    }
    io.out(
      formatTable([['SERIAL', 'NAME', 'NOT BEFORE', 'NOT AFTER', 'STATUS'], ...rows.map((r) => [r.serial, r.proxyId, r.notBefore, r.notAfter, r.status])]),
    );
    io.out(`\n${imTable}`);
    if (rows.length === 0) io.err('the directory holds no certificates\n');
    return 0;
  },
};

function formatTable(table: string[][]): string {
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return table.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n') + '\n';
}
