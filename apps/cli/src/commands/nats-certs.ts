import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { makeNatsTls } from '@beamline/devnet';
import type { CliIo, Command } from '../command';
import { wantsHelp } from '../command';

const USAGE = `Usage: beamline nats-certs --dir DIR [--host NAME]... [--client NAME]... [--validity-days 825]

Makes a test CA for NATS TLS and the certificates infra/nats/*.conf expect, into DIR (which must not hold
them yet): ca.crt.pem, ca.key.pem (0600), server.crt.pem and server.key.pem (0600) for every node, naming
each --host (plus localhost and 127.0.0.1; also valid for the cluster routes), and <NAME>.crt.pem /
<NAME>.key.pem (0600) per --client, for servers that require client certificates (tls { verify: true }).
For production, prefer certificates from your organisation's CA.

On the NATS hosts: DIR is /etc/nats/tls. On every client: NATS_TLS_CA=ca.crt.pem, and with client
certificates NATS_TLS_CERT=<NAME>.crt.pem NATS_TLS_KEY=<NAME>.key.pem.

Options:
  --dir DIR              where to write the files (required; created if missing)
  --host NAME            a DNS name or IP address clients and nodes reach a NATS server at (repeatable)
  --client NAME          make a client certificate with this common name (repeatable), e.g. broker-api
  --validity-days N      validity of the certificates (default 825)
  -h, --help             show this help

Example:
  beamline nats-certs --dir /etc/nats/tls --host nats-1 --host nats-2 --host nats-3
`;

const MORE = 'Run "beamline nats-certs --help" for its options.\n';

export const natsCertsCommand: Command = {
  name: 'nats-certs',
  summary: 'make a test CA and certificates for NATS TLS (infra/nats)',
  usage: USAGE,
  run(args: string[], io: CliIo): Promise<number> {
    if (wantsHelp(args)) {
      io.out(USAGE);
      return Promise.resolve(0);
    }
    let values;
    try {
      values = parseArgs({
        args,
        options: {
          dir: { type: 'string' },
          host: { type: 'string', multiple: true },
          client: { type: 'string', multiple: true },
          'validity-days': { type: 'string' },
        },
        strict: true,
      }).values;
    } catch (err) {
      io.err(`beamline nats-certs: ${(err as Error).message.split('\n')[0].split('. To specify')[0]}\n${MORE}`);
      return Promise.resolve(2);
    }
    const days = values['validity-days'] === undefined ? 825 : Number(values['validity-days']);
    if (!values.dir || !Number.isSafeInteger(days) || days < 1) {
      io.err(`beamline nats-certs: ${values.dir ? '--validity-days must be a positive integer' : '--dir is required'}\n${MORE}`);
      return Promise.resolve(2);
    }
    const dir = resolve(values.dir);
    if (existsSync(resolve(dir, 'ca.crt.pem'))) {
      io.err(`beamline nats-certs: ${dir} already holds ca.crt.pem; refusing to overwrite it\n`);
      return Promise.resolve(1);
    }
    const files = makeNatsTls(dir, { hosts: values.host ?? [], clients: values.client ?? [], validityDays: days });
    const clients = Object.entries(files.clients).map(([name, f]) => `  client ${name.padEnd(14)} ${f.certFile}, ${f.keyFile}\n`);
    io.out(
      `Wrote to ${dir}:\n  CA              ${files.caCertFile} (key ${files.caKeyFile})\n  server          ${files.serverCertFile}, ${files.serverKeyFile}\n${clients.join('')}`,
    );
    return Promise.resolve(0);
  },
};
