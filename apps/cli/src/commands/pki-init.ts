import { resolve } from 'node:path';
import { CA_FILES, initCa } from '@beamline/pki';
import type { PkiSubcommand } from './pki-common';
import { integerOption, optionalString, requireString } from './pki-common';

const USAGE = `Usage: beamline pki init --ca-dir DIR [--validity-days 3650] [--root-cn NAME] [--im-cn NAME] [--bits 4096]

Creates a new certificate authority in DIR (created if missing, mode 0700): a self-signed root CA and an
intermediate CA signed by it, which issues the proxy certificates.

  ${CA_FILES.rootCert}   the root certificate: give it to the broker and every proxy as ROOTCERT_FILE
  ${CA_FILES.rootKey}   the root key (mode 0600): signs only the intermediate's publication
  ${CA_FILES.imCert}     the intermediate certificate
  ${CA_FILES.imKey}     the intermediate key (mode 0600): signs certificates and revocations

Refuses to touch a directory that already holds any of these files.

Options:
  --ca-dir DIR           where the CA lives (required)
  --validity-days N      validity of both CA certificates in days (default 3650)
  --root-cn NAME         common name of the root (default "Beamline Root CA")
  --im-cn NAME           common name of the intermediate (default "Beamline Intermediate CA")
  --bits N               RSA key size of both CA keys (default 4096)
  -h, --help             show this help

Example:
  beamline pki init --ca-dir /secure/beamline-ca --root-cn "Example Root CA"
`;

export const pkiInit: PkiSubcommand = {
  name: 'init',
  summary: 'create a root and an intermediate CA in a directory',
  usage: USAGE,
  options: {
    'ca-dir': { type: 'string' },
    'validity-days': { type: 'string' },
    'root-cn': { type: 'string' },
    'im-cn': { type: 'string' },
    bits: { type: 'string' },
  },
  positionals: [0, 0],
  async run(args, io) {
    const dir = resolve(requireString(args, 'ca-dir'));
    const ca = initCa(dir, {
      validityDays: integerOption(args, 'validity-days', 3650, 1, 36500),
      rootCn: optionalString(args, 'root-cn'),
      imCn: optionalString(args, 'im-cn'),
      bits: integerOption(args, 'bits', 4096, 2048, 16384),
    });
    io.out(
      [
        `Created a CA in ${dir}:`,
        `  root          ${ca.root.commonName}, serial ${ca.root.serial}, valid until ${ca.root.notAfter.toISOString()}`,
        `  intermediate  ${ca.im.commonName}, serial ${ca.im.serial}, valid until ${ca.im.notAfter.toISOString()}`,
        `Keys: ${CA_FILES.rootKey}, ${CA_FILES.imKey} (mode 0600). Distribute ${CA_FILES.rootCert} as ROOTCERT_FILE.`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
