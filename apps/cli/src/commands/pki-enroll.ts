import { resolve } from 'node:path';
import { enroll } from '@beamline/pki';
import type { PkiSubcommand } from './pki-common';
import { integerOption, requireString } from './pki-common';

const USAGE = `Usage: beamline pki enroll --proxy-id ID --key-file FILE [--bits 4096]

Run at the proxy's site. Generates the proxy's private key, writes it to FILE (mode 0600; an existing file
is never overwritten) and prints ONLY the certificate signing request (CSR, CN = ID) to stdout — ready to
send to the CA's administrator. The private key never leaves the site and is never printed.

Options:
  --proxy-id ID          the proxy's id, <proxy>.<broker id>, e.g. proxy1.broker.example.org (required)
  --key-file FILE        where to write the private key (PKCS#8 PEM); the proxy's PRIVKEY_FILE (required)
  --bits N               RSA key size (default 4096)
  -h, --help             show this help

Example:
  beamline pki enroll --proxy-id proxy1.broker.example.org --key-file /etc/beamline/proxy1.priv.pem > proxy1.csr.pem
`;

export const pkiEnroll: PkiSubcommand = {
  name: 'enroll',
  summary: "at a site: generate the proxy's private key and print its CSR",
  usage: USAGE,
  options: { 'proxy-id': { type: 'string' }, 'key-file': { type: 'string' }, bits: { type: 'string' } },
  positionals: [0, 0],
  async run(args, io) {
    const proxyId = requireString(args, 'proxy-id');
    const keyFile = resolve(requireString(args, 'key-file'));
    const csr = enroll(proxyId, keyFile, { bits: integerOption(args, 'bits', 4096, 2048, 16384) });
    io.out(csr);
    io.err(
      `Private key written to ${keyFile} (mode 0600): keep it at this site, set PRIVKEY_FILE to it.\n` +
        `Send the CSR above (stdout) to the CA's administrator, who runs:\n` +
        `  beamline pki sign <csr file> --proxy-id ${proxyId} --ca-dir <CA dir>\n`,
    );
    return 0;
  },
};
